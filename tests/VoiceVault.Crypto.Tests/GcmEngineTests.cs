using System.Security.Cryptography;

namespace VoiceVault.Crypto.Tests;

public sealed class GcmEngineTests
{
    public static TheoryData<GcmVector> Vectors => [.. GcmVector.Load()];

    [Fact]
    public void The_vector_file_has_successes_and_failures()
    {
        var all = GcmVector.Load().ToList();
        Assert.True(all.Count(v => v.Expect == "ok") >= 8);
        Assert.True(all.Count(v => v.Expect == "auth-failure") >= 4);
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Both_engines_encrypt_known_answer_vectors(GcmVector vector)
    {
        if (vector.Expect != "ok")
        {
            return;
        }
        foreach (var kind in new[] { GcmEngineKind.OpenSsl, GcmEngineKind.Managed })
        {
            using var engine = GcmEngine.Create(kind, encrypt: true, vector.Key, vector.Iv);
            var output = new byte[vector.Plaintext.Length + GcmEngine.MaxLag];
            int n = engine.Update(vector.Plaintext, output);
            var tag = new byte[16];
            n += engine.FinishEncrypt(output.AsSpan(n), tag);
            Assert.Equal(Convert.ToHexString(vector.Ciphertext), Convert.ToHexString(output, 0, n));
            Assert.Equal(Convert.ToHexString(vector.Tag), Convert.ToHexString(tag));
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Both_engines_decrypt_or_reject_known_answer_vectors(GcmVector vector)
    {
        foreach (var kind in new[] { GcmEngineKind.OpenSsl, GcmEngineKind.Managed })
        {
            using var engine = GcmEngine.Create(kind, encrypt: false, vector.Key, vector.Iv);
            var output = new byte[vector.Ciphertext.Length + GcmEngine.MaxLag];
            int n = engine.Update(vector.Ciphertext, output);
            if (vector.Expect == "ok")
            {
                n += engine.FinishDecrypt(vector.Tag, output.AsSpan(n));
                Assert.Equal(Convert.ToHexString(vector.Plaintext), Convert.ToHexString(output, 0, n));
            }
            else
            {
                Assert.Throws<AuthenticationFailedException>(() => engine.FinishDecrypt(vector.Tag, output.AsSpan(n)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void The_vectors_agree_with_dotnet_one_shot_AesGcm(GcmVector vector)
    {
        using var aes = new AesGcm(vector.Key, 16);
        var plaintext = new byte[vector.Ciphertext.Length];
        if (vector.Expect == "ok")
        {
            aes.Decrypt(vector.Iv, vector.Ciphertext, vector.Tag, plaintext);
            Assert.Equal(vector.Plaintext, plaintext);
        }
        else
        {
            Assert.ThrowsAny<CryptographicException>(() => aes.Decrypt(vector.Iv, vector.Ciphertext, vector.Tag, plaintext));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1000)]
    [InlineData(65_537)]
    public void Both_engines_produce_identical_bytes_and_match_AesGcm(int length)
    {
        var key = TestData.Random(32);
        var iv = TestData.Random(12);
        var plaintext = TestData.Random(length);
        var expected = new byte[length];
        var expectedTag = new byte[16];
        using (var aes = new AesGcm(key, 16))
        {
            aes.Encrypt(iv, plaintext, expected, expectedTag);
        }
        foreach (var kind in new[] { GcmEngineKind.OpenSsl, GcmEngineKind.Managed })
        {
            using var engine = GcmEngine.Create(kind, encrypt: true, key, iv);
            var output = new byte[length + GcmEngine.MaxLag];
            int n = 0;
            // Feed in uneven pieces: the engine contract is incremental.
            for (int offset = 0; offset < length; offset += 7_777)
            {
                n += engine.Update(plaintext.AsSpan(offset, Math.Min(7_777, length - offset)), output.AsSpan(n));
            }
            var tag = new byte[16];
            n += engine.FinishEncrypt(output.AsSpan(n), tag);
            Assert.Equal(expected, output[..n]);
            Assert.Equal(expectedTag, tag);
        }
    }

    [Theory]
    [MemberData(nameof(EngineScope.Both), MemberType = typeof(EngineScope))]
    public void Engines_work_in_place(string engine)
    {
        // As the chunk pipeline uses them: each piece transformed where it lies, with MaxLag of room.
        var kind = EngineScope.Parse(engine);
        var key = TestData.Random(32);
        var iv = TestData.Random(12);
        var plaintext = TestData.Random(100_003);
        var result = new MemoryStream();
        var tag = new byte[16];
        using (var gcm = GcmEngine.Create(kind, encrypt: true, key, iv))
        {
            for (int offset = 0; offset < plaintext.Length; offset += 4_099)
            {
                int count = Math.Min(4_099, plaintext.Length - offset);
                var buffer = new byte[count + GcmEngine.MaxLag];
                plaintext.AsSpan(offset, count).CopyTo(buffer);
                int written = gcm.Update(buffer.AsSpan(0, count), buffer);
                result.Write(buffer, 0, written);
            }
            var final = new byte[GcmEngine.MaxLag];
            result.Write(final, 0, gcm.FinishEncrypt(final, tag));
        }
        var expected = new byte[plaintext.Length];
        var expectedTag = new byte[16];
        using (var aes = new AesGcm(key, 16))
        {
            aes.Encrypt(iv, plaintext, expected, expectedTag);
        }
        Assert.Equal(expected, result.ToArray());
        Assert.Equal(expectedTag, tag);
    }

    [Fact]
    public void An_unknown_engine_name_is_refused_with_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => GcmEngine.Select("fastest"));
        Assert.Contains("'openssl' or 'managed'", e.Message, StringComparison.Ordinal);
        Assert.Equal(GcmEngineKind.Managed, GcmEngine.Select("managed"));
        Assert.Equal(GcmEngineKind.OpenSsl, GcmEngine.Select(" OpenSSL "));
    }

    [Fact]
    public void A_failed_OpenSSL_decryption_leaves_nothing_behind_for_dotnets_own_crypto()
    {
        // .NET's shim reads OpenSSL's per-thread error queue; a stale entry from our failure
        // would surface as a bogus error in an unrelated operation on this thread.
        for (int i = 0; i < 3; i++)
        {
            using var engine = GcmEngine.Create(GcmEngineKind.OpenSsl, encrypt: false, new byte[32], new byte[12]);
            var output = new byte[GcmEngine.MaxLag];
            engine.Update(new byte[10], output);
            Assert.Throws<AuthenticationFailedException>(() => engine.FinishDecrypt(new byte[16], output));
        }
        using var cek = ContentKey.Generate();
        var wrapped = KeyWrap.Wrap(TestData.Key, cek);
        using var unwrapped = KeyWrap.Unwrap(TestData.Key, wrapped);
        Assert.Equal(cek.Bytes.ToArray(), unwrapped.Bytes.ToArray());
        using var aes = new AesGcm(new byte[32], 16);
        var tag = new byte[16];
        aes.Encrypt(new byte[12], new byte[5], new byte[5], tag);
        Assert.Equal(32, SHA256.HashData(tag).Length);
    }

    [Fact]
    public void OpenSsl_is_found_on_linux()
    {
        Assert.Equal(OperatingSystem.IsLinux(), OpenSslGcm.IsAvailable);
    }

    [Fact]
    public void Keys_and_ivs_of_the_wrong_size_are_refused()
    {
        Assert.Throws<ArgumentException>(() => GcmEngine.Create(GcmEngineKind.OpenSsl, true, new byte[16], new byte[12]));
        Assert.Throws<ArgumentException>(() => GcmEngine.Create(GcmEngineKind.Managed, true, new byte[32], new byte[16]));
    }
}
