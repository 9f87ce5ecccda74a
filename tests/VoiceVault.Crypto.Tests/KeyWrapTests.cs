using System.Security.Cryptography;

namespace VoiceVault.Crypto.Tests;

public sealed class KeyWrapTests
{
    [Fact]
    public void Wrapped_key_unwraps_with_the_private_key_and_is_OAEP_SHA256()
    {
        using var cek = ContentKey.Generate();
        var wrapped = KeyWrap.Wrap(TestData.Key, cek);
        Assert.Equal(256, wrapped.Length);
        using var unwrapped = KeyWrap.Unwrap(TestData.Key, wrapped);
        Assert.Equal(cek.Bytes.ToArray(), unwrapped.Bytes.ToArray());
        // Independent check with the BCL: OAEP-SHA256 decryption (MGF1-SHA256) gives the same key.
        Assert.Equal(cek.Bytes.ToArray(), TestData.Key.Decrypt(wrapped, RSAEncryptionPadding.OaepSHA256));
        // OAEP is randomised: wrapping twice gives different bytes.
        Assert.NotEqual(wrapped, KeyWrap.Wrap(TestData.Key, cek));
    }

    [Fact]
    public void Another_private_key_of_the_same_size_is_a_mismatch()
    {
        using var cek = ContentKey.Generate();
        var wrapped = KeyWrap.Wrap(TestData.Key, cek);
        using var other = RSA.Create(2048);
        var e = Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(other, wrapped));
        Assert.Contains("not the key the recording was encrypted to", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.Hint);
    }

    [Fact]
    public void A_key_of_another_size_is_named_as_such()
    {
        using var cek = ContentKey.Generate();
        var wrapped = KeyWrap.Wrap(TestData.Key, cek);
        using var bigger = RSA.Create(3072);
        var e = Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(bigger, wrapped));
        Assert.Contains("2048-bit", e.Message, StringComparison.Ordinal);
        Assert.Contains("3072-bit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_wrapped_key_is_a_mismatch_not_a_crash()
    {
        using var cek = ContentKey.Generate();
        var wrapped = KeyWrap.Wrap(TestData.Key, cek);
        wrapped[100] ^= 1;
        Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(TestData.Key, wrapped));
    }

    [Fact]
    public void PKCS1_v1_5_wrapped_keys_are_refused()
    {
        using var cek = ContentKey.Generate();
        var wrapped = TestData.Key.Encrypt(cek.Bytes.ToArray(), RSAEncryptionPadding.Pkcs1);
        Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(TestData.Key, wrapped));
    }

    [Fact]
    public void A_wrapped_value_that_is_not_32_bytes_is_refused()
    {
        var wrapped = TestData.Key.Encrypt(new byte[16], RSAEncryptionPadding.OaepSHA256);
        var e = Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(TestData.Key, wrapped));
        Assert.Contains("16 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_under_2048_bits_are_refused_for_wrapping()
    {
        using var small = RSA.Create(1024);
        using var cek = ContentKey.Generate();
        var e = Assert.Throws<KeyFormatException>(() => KeyWrap.Wrap(small, cek));
        Assert.Contains("1024 bits", e.Message, StringComparison.Ordinal);
    }
}
