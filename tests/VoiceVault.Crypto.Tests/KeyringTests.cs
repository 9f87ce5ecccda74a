using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Crypto.Tests;

public sealed class KeyringTests : IDisposable
{
    private const string SidA = "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string SidB = "CRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vv-keyring-" + Guid.NewGuid().ToString("N"));
    private readonly RSA _a = RSA.Create(2048);
    private readonly RSA _b = RSA.Create(2048);

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static byte[] Pem(RSA key) => Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem());

    private static EncryptionDetails DetailsFor(RSA key, string? sid, ContentKey cek) => new(sid, KeyWrap.Wrap(key, cek), RecordingFormat.NewIv());

    [Fact]
    public void Keys_are_filed_by_sid_with_a_fingerprint_index_readable_only_by_the_owner()
    {
        var keyring = Keyring.Open(_dir, create: true);
        keyring.Add(Pem(_a), SidA);
        keyring.Add(_b.ExportRSAPrivateKey(), SidB);

        Assert.True(File.Exists(Path.Combine(_dir, SidA + ".pem")));
        Assert.Contains("BEGIN RSA PRIVATE KEY", File.ReadAllText(Path.Combine(_dir, SidB + ".pem")), StringComparison.Ordinal);
        var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "index.json"))).RootElement;
        Assert.Equal(KeyFile.Fingerprint(_a), index[0].GetProperty("fingerprint").GetString());
        Assert.Equal(SidB, index[1].GetProperty("sid").GetString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, SidA + ".pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void The_key_named_by_the_details_is_picked_and_rotated_keys_keep_working()
    {
        var keyring = Keyring.Open(_dir, create: true);
        keyring.Add(Pem(_a), SidA);
        keyring.Add(Pem(_b), SidB);
        using var cek = ContentKey.Generate();
        foreach (var (key, sid) in new[] { (_a, SidA), (_b, SidB) })
        {
            var result = Keyring.Open(_dir).Unwrap(DetailsFor(key, sid, cek));
            Assert.True(result.MatchedBySid);
            Assert.Equal(sid, result.Entry.Sid);
            Assert.Equal(cek.Bytes.ToArray(), result.Key.Bytes.ToArray());
        }
    }

    [Fact]
    public void An_unknown_sid_tries_every_key_and_says_which_matched()
    {
        var keyring = Keyring.Open(_dir, create: true);
        keyring.Add(Pem(_a), SidA);
        keyring.Add(Pem(_b), SidB);
        using var cek = ContentKey.Generate();
        var result = keyring.Unwrap(DetailsFor(_b, "CR00000000000000000000000000000000", cek));
        Assert.False(result.MatchedBySid);
        Assert.Equal(SidB, result.Entry.Sid);
        Assert.Equal(cek.Bytes.ToArray(), result.Key.Bytes.ToArray());
        result = keyring.Unwrap(DetailsFor(_a, null, cek));
        Assert.Equal(SidA, result.Entry.Sid);
    }

    [Fact]
    public void No_matching_key_is_a_clear_error()
    {
        var keyring = Keyring.Open(_dir, create: true);
        keyring.Add(Pem(_a), SidA);
        using var other = RSA.Create(2048);
        using var cek = ContentKey.Generate();
        var e = Assert.Throws<KeyMismatchException>(() => keyring.Unwrap(DetailsFor(other, SidB, cek)));
        Assert.Contains($"holds no key for {SidB}", e.Message, StringComparison.Ordinal);
        Assert.Contains("1 key(s)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_file_swapped_under_a_sid_is_reported()
    {
        var keyring = Keyring.Open(_dir, create: true);
        keyring.Add(Pem(_a), SidA);
        File.WriteAllBytes(Path.Combine(_dir, SidA + ".pem"), Pem(_b));
        using var cek = ContentKey.Generate();
        var e = Assert.Throws<KeyMismatchException>(() => Keyring.Open(_dir).Unwrap(DetailsFor(_a, SidA, cek)));
        Assert.Contains(SidA, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_files_copied_in_by_hand_are_indexed()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllBytes(Path.Combine(_dir, SidA + ".pem"), Pem(_a));
        var keyring = Keyring.Open(_dir);
        Assert.Equal(SidA, Assert.Single(keyring.Entries).Sid);
        Assert.True(File.Exists(Path.Combine(_dir, "index.json")));
    }

    [Fact]
    public void Encrypted_keys_stay_encrypted_in_the_keyring()
    {
        var secret = "keyring secret";
        var encrypted = Encoding.ASCII.GetBytes(_a.ExportEncryptedPkcs8PrivateKeyPem(secret, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000)));
        var keyring = Keyring.Open(_dir, () => secret.ToCharArray(), create: true);
        keyring.Add(encrypted, SidA);
        Assert.Contains("ENCRYPTED PRIVATE KEY", File.ReadAllText(Path.Combine(_dir, SidA + ".pem")), StringComparison.Ordinal);
        using var cek = ContentKey.Generate();
        Assert.Equal(SidA, Keyring.Open(_dir, () => secret.ToCharArray()).Unwrap(DetailsFor(_a, SidA, cek)).Entry.Sid);
    }

    [Fact]
    public void A_different_key_under_an_existing_sid_is_refused()
    {
        var keyring = Keyring.Open(_dir, create: true);
        keyring.Add(Pem(_a), SidA);
        var e = Assert.Throws<KeyFormatException>(() => keyring.Add(Pem(_b), SidA));
        Assert.Contains("already holds a different key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_directory_is_named()
    {
        var e = Assert.Throws<KeyFormatException>(() => Keyring.Open(_dir));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
