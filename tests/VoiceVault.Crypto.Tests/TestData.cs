using System.Security.Cryptography;

namespace VoiceVault.Crypto.Tests;

internal static class TestData
{
    private static readonly Lazy<RSA> SharedKey = new(() => RSA.Create(2048));

    /// <summary>One 2048-bit key for tests that do not care which key; generated, never stored.</summary>
    public static RSA Key => SharedKey.Value;

    public static byte[] Random(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    public static byte[] Encrypt(byte[] plaintext, ContentKey cek, byte[] iv)
    {
        using var output = new MemoryStream();
        RecordingEncryptor.Encrypt(new MemoryStream(plaintext), output, cek, iv);
        return output.ToArray();
    }

    public static byte[] Decrypt(byte[] encrypted, ContentKey cek, byte[] iv)
    {
        using var output = new MemoryStream();
        RecordingDecryptor.Decrypt(new MemoryStream(encrypted), output, cek, iv);
        return output.ToArray();
    }

    /// <summary>The three forms of decryption: the threaded pipeline, the calling thread alone, and asynchronous.</summary>
    public static readonly TheoryData<string> DecryptForms = new("pipeline", "calling-thread", "async");

    public static async Task<long> DecryptAsync(string form, Stream encrypted, Stream output, ContentKey cek, byte[] iv) => form switch
    {
        "pipeline" => RecordingDecryptor.Decrypt(encrypted, output, cek, iv),
        "calling-thread" => RecordingDecryptor.DecryptOnCallingThread(encrypted, output, cek, iv),
        "async" => await RecordingDecryptor.DecryptAsync(encrypted, output, cek, iv),
        _ => throw new ArgumentOutOfRangeException(nameof(form)),
    };
}

/// <summary>A stream that cannot seek and hands out reads of awkward sizes, like a socket.</summary>
internal sealed class TrickleStream(Stream inner, int seed) : ReadOnlyTestStream
{
    private readonly Random _sizes = new(seed);

    public override int Read(byte[] buffer, int offset, int count) =>
        inner.Read(buffer, offset, Math.Min(count, _sizes.Next(1, 40_000)));
}
