using System.Security.Cryptography;

namespace VoiceVault.Server.Core;

/// <summary>
/// The server's own 32-byte key. It seals what the server must be able to recover but must never
/// keep in plaintext: auth tokens and API key secrets (to sign webhooks and check credentials) and
/// the CEKs of recordings encrypted under the server-managed key. AES-256-GCM, the record's SID as
/// associated data so a sealed value cannot be moved to another record.
/// </summary>
public sealed class MasterKey : IDisposable
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly AesGcm _aes;

    public MasterKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32)
        {
            throw new InvalidOperationException($"The master key must be 32 bytes; got {key.Length}.");
        }
        _aes = new AesGcm(key, TagSize);
    }

    /// <summary>Loads the key from configuration (base64) or from <c>master.key</c> in the data folder, creating it (0600) on first start.</summary>
    public static MasterKey Load(VaultOptions options)
    {
        const string Hint = "VoiceVault:MasterKey is the base64 of 32 random bytes (openssl rand -base64 32); leave it out to keep the key in the data folder's master.key";
        if (!string.IsNullOrWhiteSpace(options.MasterKey))
        {
            var configured = new byte[32];
            if (!Convert.TryFromBase64String(options.MasterKey.Trim(), configured, out int length) || length != 32)
            {
                throw new StartupException("VoiceVault:MasterKey is not the base64 of 32 bytes", Hint);
            }
            try
            {
                return new MasterKey(configured);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(configured);
            }
        }
        var path = Path.Combine(options.DataDir, "master.key");
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            try
            {
                using var stream = new FileStream(path, create);
                stream.Write(fresh);
                stream.Flush(flushToDisk: true);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another instance created it first: use theirs.
            }
        }
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != 32)
        {
            CryptographicOperations.ZeroMemory(bytes);
            throw new StartupException($"The master key file {path} holds {bytes.Length} bytes, not 32", "restore the file from your backup (without it nothing sealed with it opens), or give VoiceVault:MasterKey");
        }
        try
        {
            return new MasterKey(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public byte[] Seal(ReadOnlySpan<byte> plaintext, string context)
    {
        var sealedValue = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = sealedValue.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        // One AesGcm holds one cipher context: it must not be used by two threads at once.
        lock (_aes)
        {
            _aes.Encrypt(nonce, plaintext, sealedValue.AsSpan(NonceSize, plaintext.Length), sealedValue.AsSpan(NonceSize + plaintext.Length), System.Text.Encoding.UTF8.GetBytes(context));
        }
        return sealedValue;
    }

    public byte[] Open(ReadOnlySpan<byte> sealedValue, string context)
    {
        if (sealedValue.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("A sealed value is too short.");
        }
        var plaintext = new byte[sealedValue.Length - NonceSize - TagSize];
        lock (_aes)
        {
            _aes.Decrypt(sealedValue[..NonceSize], sealedValue[NonceSize..^TagSize], sealedValue[^TagSize..], plaintext, System.Text.Encoding.UTF8.GetBytes(context));
        }
        return plaintext;
    }

    public void Dispose() => _aes.Dispose();
}
