using System.Security.Cryptography;

namespace VoiceVault.Crypto;

/// <summary>The fixed parameters of the rsa-aes recording format (docs/format.md).</summary>
public static class RecordingFormat
{
    /// <summary>The value of <c>type</c> in encryption details.</summary>
    public const string Type = "rsa-aes";

    /// <summary>Content-encryption key size: AES-256.</summary>
    public const int CekSize = 32;

    /// <summary>GCM IV size.</summary>
    public const int IvSize = 12;

    /// <summary>GCM tag size, appended to the ciphertext.</summary>
    public const int TagSize = 16;

    /// <summary>The smallest RSA modulus the format allows.</summary>
    public const int MinimumRsaBits = 2048;

    /// <summary>A fresh IV from the system CSPRNG.</summary>
    public static byte[] NewIv() => RandomNumberGenerator.GetBytes(IvSize);

    /// <summary>The plaintext length of a stored object of <paramref name="encryptedLength"/> bytes.</summary>
    /// <exception cref="AuthenticationFailedException">The object is too short to hold a tag.</exception>
    public static long PlaintextLength(long encryptedLength) =>
        encryptedLength >= TagSize ? encryptedLength - TagSize : throw AuthenticationFailedException.TooShort(encryptedLength);
}
