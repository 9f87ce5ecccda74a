using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Crypto;

/// <summary>One private key in a <see cref="Keyring"/>.</summary>
/// <param name="Sid">The CR… public-key SID the key is filed under.</param>
/// <param name="Fingerprint">The SHA-256 fingerprint of its public key.</param>
/// <param name="File">The file name inside the keyring directory.</param>
public sealed record KeyringEntry(string Sid, string Fingerprint, string File);

/// <summary>Which key of a keyring unwrapped a recording's CEK.</summary>
/// <param name="Key">The content key; dispose it when done.</param>
/// <param name="Entry">The keyring entry that matched.</param>
/// <param name="MatchedBySid">False when the details named no SID, or one the keyring does not hold, and the keys were tried in turn.</param>
public sealed record UnwrapResult(ContentKey Key, KeyringEntry Entry, bool MatchedBySid);

/// <summary>
/// A directory of private keys, each stored as <c>CR….pem</c> under its public-key SID, with an
/// index by public-key fingerprint (<c>index.json</c>). Rotated keys keep working: every
/// recording names the SID it was encrypted to.
/// </summary>
public sealed class Keyring
{
    private const string IndexFile = "index.json";
    private readonly Func<char[]?>? _passphrase;
    private readonly List<KeyringEntry> _entries;
    private readonly ConcurrentDictionary<string, Lazy<RSA>> _loaded = new(StringComparer.Ordinal);

    private Keyring(string directory, List<KeyringEntry> entries, Func<char[]?>? passphrase)
    {
        Directory = directory;
        _entries = entries;
        _passphrase = passphrase;
    }

    /// <summary>The keyring's directory.</summary>
    public string Directory { get; }

    /// <summary>The keys, in the order they were added.</summary>
    public IReadOnlyList<KeyringEntry> Entries => _entries;

    /// <summary>Opens (or, with <paramref name="create"/>, creates) a keyring directory.</summary>
    public static Keyring Open(string directory, Func<char[]?>? passphrase = null, bool create = false)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            if (!create)
            {
                throw new KeyFormatException($"keyring directory '{directory}' does not exist", "create one with: voicevault keyring add --keyring DIR KEY.pem --sid CR…");
            }
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(directory);
            }
            else
            {
                System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        var indexPath = Path.Combine(directory, IndexFile);
        List<KeyringEntry> entries;
        if (File.Exists(indexPath))
        {
            try
            {
                entries = JsonSerializer.Deserialize(File.ReadAllText(indexPath), KeyringJson.Default.ListKeyringEntry) ?? [];
            }
            catch (JsonException e)
            {
                throw new KeyFormatException($"the keyring index '{indexPath}' is damaged ({e.Message})", "delete index.json to rebuild it from the key files", e);
            }
        }
        else
        {
            entries = [];
        }
        var keyring = new Keyring(directory, entries, passphrase);
        keyring.AdoptUnindexedFiles();
        return keyring;
    }

    /// <summary>
    /// Adds a private key (the content of a key file, any supported encoding) under
    /// <paramref name="sid"/>, or under its local SID when none is given. The key is kept as PEM,
    /// encrypted if it was, in a file readable by its owner only.
    /// </summary>
    public KeyringEntry Add(ReadOnlySpan<byte> keyFile, string? sid = null)
    {
        using var rsa = KeyFile.LoadPrivateKey(keyFile, _passphrase);
        var (entry, existing) = Entry(rsa, sid, ".pem");
        var info = KeyFile.Describe(keyFile);
        var pem = info.Encoding == "PEM"
            ? Encoding.UTF8.GetBytes(ExtractPem(Encoding.UTF8.GetString(keyFile)))
            : Encoding.ASCII.GetBytes(PemEncoding.WriteString(info.Kind switch
            {
                KeyKind.RsaPrivatePkcs1 => "RSA PRIVATE KEY",
                KeyKind.EncryptedPkcs8 => "ENCRYPTED PRIVATE KEY",
                _ => "PRIVATE KEY",
            }, info.Der) + "\n");
        PrivateFile.WriteAllBytes(Path.Combine(Directory, entry.File), pem);
        return Save(entry, existing);
    }

    /// <summary>
    /// Files a key that stays in a PKCS#11 token under <paramref name="sid"/> (or its local SID):
    /// the keyring keeps only the URI (<c>CR….pkcs11</c>), never a PIN.
    /// </summary>
    public KeyringEntry AddToken(string uri, string? sid = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var parsed = Pkcs11Uri.Parse(uri);
        if (parsed.Redacted != parsed.Text)
        {
            throw new KeyFormatException("a keyring does not store PINs, and this URI carries one (pin-value=)",
                $"use pin-source=FILE in the URI, or set {Pkcs11Uri.PinVariable} when the keyring is used");
        }
        using var key = Pkcs11Key.Open(parsed.Text);
        var (entry, existing) = Entry(key, sid, ".pkcs11");
        PrivateFile.WriteAllBytes(Path.Combine(Directory, entry.File), Encoding.UTF8.GetBytes(parsed.Text + "\n"));
        return Save(entry, existing);
    }

    private (KeyringEntry Entry, KeyringEntry? Existing) Entry(RSA key, string? sid, string extension)
    {
        sid ??= KeyFile.LocalSid(key);
        if (!EncryptionDetailsSid.IsValid(sid))
        {
            throw new KeyFormatException($"'{sid}' is not a public-key SID (CR followed by 32 lower-case hex digits)");
        }
        var fingerprint = KeyFile.Fingerprint(key);
        var existing = _entries.FirstOrDefault(e => e.Sid == sid);
        if (existing is not null && existing.Fingerprint != fingerprint)
        {
            throw new KeyFormatException($"the keyring already holds a different key under {sid} ({existing.Fingerprint})", "remove it first, or check the SID");
        }
        if (existing is not null && existing.File != sid + extension)
        {
            throw new KeyFormatException($"the keyring holds this key under {sid} already, as {existing.File}");
        }
        return (new KeyringEntry(sid, fingerprint, sid + extension), existing);
    }

    private KeyringEntry Save(KeyringEntry entry, KeyringEntry? existing)
    {
        if (existing is null)
        {
            _entries.Add(entry);
            SaveIndex();
        }
        return entry;
    }

    /// <summary>
    /// Unwraps the CEK of <paramref name="details"/>: with the key filed under its SID, or, when the
    /// keyring has no such SID, by trying each key in turn.
    /// </summary>
    /// <exception cref="KeyMismatchException">No key of the keyring unwraps it.</exception>
    public UnwrapResult Unwrap(EncryptionDetails details)
    {
        ArgumentNullException.ThrowIfNull(details);
        var named = details.PublicKeySid is null ? null : _entries.FirstOrDefault(e => e.Sid == details.PublicKeySid);
        if (named is not null)
        {
            try
            {
                return new UnwrapResult(KeyWrap.Unwrap(Load(named), details.EncryptedCek), named, MatchedBySid: true);
            }
            catch (KeyMismatchException)
            {
                throw new KeyMismatchException(
                    $"the keyring's key for {named.Sid} ({named.File}) does not unwrap this recording's CEK",
                    "the file may hold another key than the one registered under that SID, or the details are damaged");
            }
        }
        foreach (var entry in _entries)
        {
            try
            {
                return new UnwrapResult(KeyWrap.Unwrap(Load(entry), details.EncryptedCek), entry, MatchedBySid: false);
            }
            catch (KeyMismatchException)
            {
                // Not this one; OAEP's integrity check makes a false match practically impossible.
            }
        }
        var wanted = details.PublicKeySid is null ? "the details name no public key SID" : $"it holds no key for {details.PublicKeySid}";
        throw new KeyMismatchException(
            $"no key in keyring '{Directory}' unwraps this recording's CEK: {wanted}, and none of its {_entries.Count} key(s) matched",
            "add the private key: voicevault keyring add --keyring DIR KEY.pem --sid CR…");
    }

    private RSA Load(KeyringEntry entry) => _loaded.GetOrAdd(entry.Sid, _ => new Lazy<RSA>(() => LoadFile(Path.Combine(Directory, entry.File)))).Value;

    // A .pkcs11 file holds the URI of a key in a token; any other, the key.
    private RSA LoadFile(string path) => path.EndsWith(".pkcs11", StringComparison.Ordinal)
        ? Pkcs11Key.Open(File.ReadAllText(path))
        : KeyFile.LoadPrivateKey(File.ReadAllBytes(path), _passphrase);

    // Key files copied into the directory by hand are filed by the SID their name carries.
    private void AdoptUnindexedFiles()
    {
        bool changed = false;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "CR*.pem").Concat(System.IO.Directory.EnumerateFiles(Directory, "CR*.pkcs11")).Order(StringComparer.Ordinal))
        {
            var sid = Path.GetFileNameWithoutExtension(path);
            if (!EncryptionDetailsSid.IsValid(sid) || _entries.Any(e => e.Sid == sid))
            {
                continue;
            }
            using var rsa = LoadFile(path);
            _entries.Add(new KeyringEntry(sid, KeyFile.Fingerprint(rsa), Path.GetFileName(path)));
            changed = true;
        }
        if (changed)
        {
            SaveIndex();
        }
    }

    private void SaveIndex() =>
        PrivateFile.WriteAllBytes(Path.Combine(Directory, IndexFile), JsonSerializer.SerializeToUtf8Bytes(_entries, KeyringJson.Default.ListKeyringEntry));

    private static string ExtractPem(string text)
    {
        ReadOnlySpan<char> rest = text;
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label];
            if (label is not "EC PARAMETERS" and not "DH PARAMETERS")
            {
                return rest[fields.Location].ToString() + "\n";
            }
            rest = rest[fields.Location.End.Value..];
        }
        throw new KeyFormatException("the key file has no PEM block");
    }
}
