using System.Security.Cryptography;

namespace VoiceVault.Crypto;

/// <summary>
/// Wraps and unwraps a recording's content key with RSAES-OAEP, SHA-256 as the hash and MGF1
/// with SHA-256, empty label (RFC 8017 §7.1) — the only padding the format allows.
/// </summary>
public static class KeyWrap
{
    /// <summary>Wraps <paramref name="cek"/> to <paramref name="publicKey"/> (2048 bits or more).</summary>
    public static byte[] Wrap(RSA publicKey, ContentKey cek)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        ArgumentNullException.ThrowIfNull(cek);
        KeyFile.RequireMinimumSize(publicKey);
        return publicKey.Encrypt(cek.Bytes, RSAEncryptionPadding.OaepSHA256);
    }

    /// <summary>Unwraps a content key with <paramref name="privateKey"/>.</summary>
    /// <exception cref="KeyMismatchException">This is not the key the CEK was wrapped to, or the wrapped CEK is damaged.</exception>
    public static ContentKey Unwrap(RSA privateKey, ReadOnlySpan<byte> wrappedCek)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        int modulusBytes = (privateKey.KeySize + 7) / 8;
        if (wrappedCek.Length != modulusBytes)
        {
            throw new KeyMismatchException(
                $"the wrapped CEK is {wrappedCek.Length} bytes ({wrappedCek.Length * 8}-bit RSA) but this private key is {privateKey.KeySize}-bit, so it is not the key the recording was encrypted to",
                "use the private key whose public key SID is named in the encryption details, or a keyring that holds it");
        }
        var plain = GC.AllocateArray<byte>(modulusBytes, pinned: true);
        try
        {
            if (!privateKey.TryDecrypt(wrappedCek, plain, RSAEncryptionPadding.OaepSHA256, out int written) || written != RecordingFormat.CekSize)
            {
                throw new KeyMismatchException(
                    $"the unwrapped content key is {written} bytes, not {RecordingFormat.CekSize}: these are not rsa-aes encryption details");
            }
            return ContentKey.FromBytes(plain.AsSpan(0, written));
        }
        catch (CryptographicException)
        {
            throw new KeyMismatchException(
                "this private key does not unwrap the recording's content key (RSA-OAEP-SHA256 decryption failed): it is not the key the recording was encrypted to, or the wrapped CEK is damaged",
                "check that the public key SID in the details is the one this private key belongs to (voicevault inspect DETAILS.json --key KEY.pem)");
        }
        finally
        {
            Wipe.Buffer(plain, "unwrapped key");
        }
    }
}
