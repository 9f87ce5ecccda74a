using System.Security.Cryptography;

namespace VoiceVault.Crypto;

/// <summary>
/// A recording's 32-byte AES-256 content-encryption key (CEK). Held in pinned memory so the
/// garbage collector never leaves copies behind, and zeroed on <see cref="Dispose"/>.
/// </summary>
public sealed class ContentKey : IDisposable
{
    private readonly byte[] _key = GC.AllocateArray<byte>(RecordingFormat.CekSize, pinned: true);
    private bool _disposed;

    private ContentKey()
    {
    }

    /// <summary>A fresh key from the system CSPRNG; never reuse it for another recording.</summary>
    public static ContentKey Generate()
    {
        var key = new ContentKey();
        RandomNumberGenerator.Fill(key._key);
        return key;
    }

    /// <summary>Copies <paramref name="key"/> (32 bytes) into a new key; the caller clears its own copy.</summary>
    public static ContentKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != RecordingFormat.CekSize)
        {
            throw new ArgumentException($"A content key is {RecordingFormat.CekSize} bytes; got {key.Length}.", nameof(key));
        }
        var result = new ContentKey();
        key.CopyTo(result._key);
        return result;
    }

    /// <summary>The key bytes; valid until the key is disposed.</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _key;
        }
    }

    /// <summary>Zeroes the key.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        _disposed = true;
    }
}
