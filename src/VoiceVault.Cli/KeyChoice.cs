using System.Security.Cryptography;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

/// <summary>
/// The private key a decryption uses: one key (--key: a file or a PKCS#11 URI) or a keyring
/// directory (--keyring).
/// </summary>
internal sealed class KeyChoice : IDisposable
{
    private readonly RSA? _key;
    private readonly Keyring? _keyring;

    private KeyChoice(RSA? key, Keyring? keyring)
    {
        _key = key;
        _keyring = keyring;
    }

    public static KeyChoice From(string? key, DirectoryInfo? keyring, FileInfo? passphraseFile)
    {
        if ((key is null) == (keyring is null))
        {
            throw new CliException("give exactly one of --key PRIVATE.pem or --keyring DIR");
        }
        var passphrase = Passphrase.Source(passphraseFile);
        return key is not null
            ? new KeyChoice(Load(key, passphrase), null)
            : new KeyChoice(null, Keyring.Open(keyring!.FullName, passphrase));
    }

    /// <summary>A private key from a file, or from a token when <paramref name="key"/> is a PKCS#11 URI.</summary>
    public static RSA Load(string key, Func<char[]?> passphrase) => Pkcs11Uri.Looks(key)
        ? Pkcs11Key.Open(key)
        : KeyFile.LoadPrivateKey(Program.ReadInput(Path.GetFullPath(key), "key file"), passphrase);

    /// <summary>Unwraps the CEK; <c>Note</c> says when a keyring had to try its keys to find it.</summary>
    public (ContentKey Key, string? KeySid, string? Note) Unwrap(EncryptionDetails details)
    {
        if (_key is not null)
        {
            return (KeyWrap.Unwrap(_key, details.EncryptedCek), details.PublicKeySid, null);
        }
        var result = _keyring!.Unwrap(details);
        string? note = result.MatchedBySid
            ? null
            : details.PublicKeySid is null
                ? $"the details name no public key SID; keyring key {result.Entry.Sid} ({result.Entry.File}) matched"
                : $"the keyring has no key filed under {details.PublicKeySid}; key {result.Entry.Sid} ({result.Entry.File}) matched";
        return (result.Key, result.Entry.Sid, note);
    }

    public void Dispose() => _key?.Dispose();
}
