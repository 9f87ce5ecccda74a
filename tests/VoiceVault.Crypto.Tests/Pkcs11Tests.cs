using System.Security.Cryptography;
using System.Text;
using VoiceVault.Tests.Shared;

namespace VoiceVault.Crypto.Tests;

/// <summary>
/// Keys in a PKCS#11 token, against a real one (SoftHSM2, a throwaway token store): made inside
/// the token and never extractable, unwrapping what OpenSSL wrapped, refusing what is not theirs,
/// and saying clearly what is wrong with a URI, a PIN, a module or a token.
/// </summary>
public sealed class Pkcs11Tests
{
    private static readonly SoftHsm Hsm = SoftHsm.Shared;

    private static string NewToken() => Hsm.TakeToken();

    private static byte[] OpensslWrap(RSA publicKey, byte[] cek, string hash)
    {
        var dir = Directory.CreateTempSubdirectory("vv-p11-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "pub.pem"), KeyFile.ExportPublicKeyPem(publicKey));
            File.WriteAllBytes(Path.Combine(dir, "cek"), cek);
            Openssl.Run("pkeyutl", "-encrypt", "-pubin", "-inkey", Path.Combine(dir, "pub.pem"), "-in", Path.Combine(dir, "cek"), "-out", Path.Combine(dir, "wrapped"),
                "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", $"rsa_oaep_md:{hash}", "-pkeyopt", $"rsa_mgf1_md:{hash}");
            return File.ReadAllBytes(Path.Combine(dir, "wrapped"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_key_made_in_the_token_is_sensitive_never_extractable_and_may_only_decrypt()
    {
        var token = NewToken();
        using var key = Pkcs11Key.Generate($"pkcs11:token={token};object=rec", 2048);
        Assert.False(key.Extractable);
        Assert.True(key.Sensitive);
        Assert.Equal(2048, key.KeySize);
        Assert.Throws<CryptographicException>(() => key.ExportParameters(includePrivateParameters: true));
        Assert.Throws<CryptographicException>(() => key.ExportPkcs8PrivateKey());
        Assert.Throws<CryptographicException>(() => key.ExportRSAPrivateKey());

        // As the token itself reports it, read by another PKCS#11 client (OpenSC's pkcs11-tool).
        var listing = Hsm.Run("pkcs11-tool", "--module", SoftHsm.Module, "--token-label", token, "--login", "--pin", Hsm.Pin, "--list-objects", "--type", "privkey");
        Assert.Contains("label:      rec", listing, StringComparison.Ordinal);
        Assert.Contains("never extractable", listing, StringComparison.Ordinal);
        Assert.Contains("sensitive", listing, StringComparison.Ordinal);
        Assert.Matches(@"Usage:\s+decrypt\s*\n", listing);
    }

    [Fact]
    public void The_token_unwraps_a_cek_that_openssl_wrapped_and_refuses_one_that_is_not_its_own()
    {
        var token = NewToken();
        using var key = Pkcs11Key.Generate($"pkcs11:token={token};object=a", 3072);
        using var other = Pkcs11Key.Generate($"pkcs11:token={token};object=b", 3072);
        var cek = RandomNumberGenerator.GetBytes(32);
        var wrapped = OpensslWrap(key, cek, "sha256");
        using (var unwrapped = KeyWrap.Unwrap(key, wrapped))
        {
            Assert.Equal(cek, unwrapped.Bytes.ToArray());
        }
        // And what this library wraps, opened by a fresh handle on the same key.
        using var again = Pkcs11Key.Open($"pkcs11:token={token};object=a");
        using (var unwrapped = KeyWrap.Unwrap(again, KeyWrap.Wrap(key, ContentKey.FromBytes(cek))))
        {
            Assert.Equal(cek, unwrapped.Bytes.ToArray());
        }
        Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(other, wrapped));
        var damaged = (byte[])wrapped.Clone();
        damaged[^1] ^= 1;
        Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(key, damaged));
        // A block above the modulus (another key's wrap often is) is a mismatch, not a token failure.
        Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(key, Enumerable.Repeat((byte)0xff, wrapped.Length).ToArray()));
        // A CEK wrapped with SHA-1 OAEP is not a recording key's wrap, though the token could read it.
        Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(key, OpensslWrap(key, cek, "sha1")));
    }

    [Fact]
    public void Without_host_oaep_a_token_lacking_oaep_sha256_is_named_with_the_way_out()
    {
        var token = NewToken();
        using var made = Pkcs11Key.Generate($"pkcs11:token={token};object=k", 2048);
        using var key = Pkcs11Key.Open($"pkcs11:token={token};object=k", Hsm.Variables(hostOaep: false));
        Assert.False(key.HostOaep);
        var e = Assert.Throws<TokenException>(() => KeyWrap.Unwrap(key, OpensslWrap(key, RandomNumberGenerator.GetBytes(32), "sha256")));
        Assert.Contains("CKM_RSA_PKCS_OAEP with SHA-256", e.Message, StringComparison.Ordinal);
        Assert.Contains("VOICEVAULT_PKCS11_OAEP=host", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void The_binding_hands_oaep_parameters_to_the_token_as_it_reads_them()
    {
        // SoftHSM2 2.6 runs CKM_RSA_PKCS_OAEP in the token with SHA-1 only. With SHA-1 in the same
        // parameter structure, the token's own OAEP decrypts: the structure's layout is the one
        // the token reads, so a token with OAEP-SHA256 gets hash and MGF where it expects them.
        var token = NewToken();
        using var key = Pkcs11Key.Generate($"pkcs11:token={token};object=k", 2048);
        var cek = RandomNumberGenerator.GetBytes(32);
        var wrapped = OpensslWrap(key, cek, "sha1");
        var module = Pkcs11Module.Load(SoftHsm.Module);
        var slot = module.Slots().Select(module.TokenIn).Single(t => t.Label == token).Slot;
        var session = module.OpenSession(slot, readWrite: false);
        try
        {
            Assert.Contains(module.Login(session, Encoding.UTF8.GetBytes(Hsm.Pin)), new[] { Pkcs11Module.CKR_OK, Pkcs11Module.CKR_USER_ALREADY_LOGGED_IN });
            var handle = Assert.Single(module.Find(session, Pkcs11Attribute.Number(Pkcs11Module.CKA_CLASS, Pkcs11Module.CKO_PRIVATE_KEY), Pkcs11Attribute.Text(Pkcs11Module.CKA_LABEL, "k")));
            var sha1 = new Pkcs11Module.Mechanism(Pkcs11Module.CKM_RSA_PKCS_OAEP, Pkcs11Module.CKM_SHA_1, Pkcs11Module.CKG_MGF1_SHA1);
            Assert.Equal(cek, module.Decrypt(session, sha1, handle, wrapped));
            // The same structure with SHA-256 is what SoftHSM2 2.6 refuses, by its hash check.
            var e = Assert.Throws<Pkcs11Error>(() => module.Decrypt(session, Pkcs11Module.Mechanism.OaepSha256, handle, OpensslWrap(key, cek, "sha256")));
            Assert.Equal(Pkcs11Module.CKR_ARGUMENTS_BAD, e.Code);
        }
        finally
        {
            module.CloseSession(session);
        }
    }

    [Fact]
    public void A_wrong_pin_a_missing_module_an_unknown_token_or_key_and_a_taken_label_each_say_what_is_wrong()
    {
        var token = NewToken();
        using (Pkcs11Key.Generate($"pkcs11:token={token};object=k", 2048))
        {
        }
        var wrongPin = Assert.Throws<TokenException>(() => Pkcs11Key.Open($"pkcs11:token={token};object=k", Hsm.Variables(pin: "0000")));
        Assert.Contains($"the PIN for token '{token}' is wrong", wrongPin.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("0000", wrongPin.Message + wrongPin.Hint, StringComparison.Ordinal);

        var noModule = Assert.Throws<TokenException>(() => Pkcs11Key.Open($"pkcs11:token={token};object=k?module-path=/nonexistent/libp11.so"));
        Assert.Contains("'/nonexistent/libp11.so' does not exist", noModule.Message, StringComparison.Ordinal);
        var notAModule = Assert.Throws<TokenException>(() => Pkcs11Key.Open($"pkcs11:token={token};object=k?module-path={typeof(object).Assembly.Location}"));
        Assert.Contains("could not be loaded as a PKCS#11 module", notAModule.Message, StringComparison.Ordinal);

        var noToken = Assert.Throws<TokenException>(() => Pkcs11Key.Open("pkcs11:token=absent;object=k"));
        Assert.Contains($"'{token}'", noToken.Message, StringComparison.Ordinal);

        var noKey = Assert.Throws<TokenException>(() => Pkcs11Key.Open($"pkcs11:token={token};object=nope"));
        Assert.Contains("its RSA private keys: 'k'", noKey.Message, StringComparison.Ordinal);

        var taken = Assert.Throws<TokenException>(() => Pkcs11Key.Generate($"pkcs11:token={token};object=k", 2048));
        Assert.Contains("already holds an object labelled 'k'", taken.Message, StringComparison.Ordinal);

        var noPin = Assert.Throws<TokenException>(() => Pkcs11Key.Open($"pkcs11:token={token};object=k", name => name == "VOICEVAULT_PKCS11_PIN" ? null : Hsm.Variables()(name)));
        Assert.Contains("needs a PIN and none was given", noPin.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_keyring_files_a_token_key_by_its_uri_and_never_stores_a_pin()
    {
        var token = NewToken();
        using var key = Pkcs11Key.Generate($"pkcs11:token={token};object=k", 2048);
        var dir = Path.Combine(Directory.CreateTempSubdirectory("vv-p11-ring-").FullName, "ring");
        try
        {
            var keyring = Keyring.Open(dir, create: true);
            const string sid = "CR0123456789abcdef0123456789abcdef";
            Assert.Throws<KeyFormatException>(() => keyring.AddToken($"pkcs11:token={token};object=k?pin-value={Hsm.Pin}", sid));
            var entry = keyring.AddToken($"pkcs11:token={token};object=k", sid);
            Assert.Equal(sid + ".pkcs11", entry.File);
            Assert.Equal(KeyFile.Fingerprint(key), entry.Fingerprint);
            Assert.Equal($"pkcs11:token={token};object=k", File.ReadAllText(Path.Combine(dir, entry.File)).Trim());
            Assert.DoesNotContain(Hsm.Pin, string.Concat(Directory.EnumerateFiles(dir).Select(File.ReadAllText)), StringComparison.Ordinal);

            var cek = RandomNumberGenerator.GetBytes(32);
            var details = new EncryptionDetails(sid, OpensslWrap(key, cek, "sha256"), RandomNumberGenerator.GetBytes(12));
            using var result = Keyring.Open(dir).Unwrap(details).Key;
            Assert.Equal(cek, result.Bytes.ToArray());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Theory]
    [InlineData("pkcs11:token=My%20Vault;object=rec%2F1;id=%01%ff?module-path=/opt/p11.so", "My Vault", "rec/1", "01ff", "/opt/p11.so")]
    [InlineData("PKCS11:object=rec;x-vendor=1", null, "rec", null, "/from/env.so")]
    [InlineData("pkcs11:id=%00;type=private;serial=42;slot-id=7", null, null, "00", "/from/env.so")]
    public void Uris_are_read_as_rfc_7512_writes_them(string text, string? token, string? label, string? id, string module)
    {
        var uri = Pkcs11Uri.Parse(text);
        Assert.Equal(token, uri.Token);
        Assert.Equal(label, uri.Object);
        Assert.Equal(id, uri.Id is null ? null : Convert.ToHexStringLower(uri.Id));
        Assert.Equal(module, uri.ModulePath(name => name == Pkcs11Uri.ModuleVariable ? "/from/env.so" : null));
    }

    [Theory]
    [InlineData("/keys/private.pem", "must start with pkcs11:")]
    [InlineData("pkcs11:token=a", "does not say which key")]
    [InlineData("pkcs11:token=a;objekt=k", "'objekt' is not a PKCS#11 URI path attribute")]
    [InlineData("pkcs11:object=a;object=b", "'object' appears twice")]
    [InlineData("pkcs11:object=a;type=public", "type=private")]
    [InlineData("pkcs11:object=a%2", "% not followed by two hex digits")]
    [InlineData("pkcs11:object=a;slot-id=x", "slot-id")]
    [InlineData("pkcs11:object=a;token", "is not name=value")]
    [InlineData("pkcs11:object=a?pin=1234", "'pin' is not a PKCS#11 URI query attribute")]
    public void A_uri_that_is_not_clear_about_its_key_is_refused(string text, string says)
    {
        var e = Assert.Throws<KeyFormatException>(() => Pkcs11Uri.Parse(text));
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pin_comes_from_the_uri_a_pin_file_or_the_environment_and_never_shows_in_messages()
    {
        Func<string, string?> environment = name => name == Pkcs11Uri.PinVariable ? "from-env" : null;
        var withValue = Pkcs11Uri.Parse("pkcs11:object=k?pin-value=s3cret&module-path=/m.so");
        Assert.Equal("s3cret", Encoding.UTF8.GetString(withValue.Pin(environment)!));
        Assert.DoesNotContain("s3cret", withValue.Redacted, StringComparison.Ordinal);
        Assert.Contains("module-path=/m.so", withValue.Redacted, StringComparison.Ordinal);

        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "from-file\nsecond line\n");
            Assert.Equal("from-file", Encoding.UTF8.GetString(Pkcs11Uri.Parse($"pkcs11:object=k?pin-source=file:{file}").Pin(environment)!));
            Assert.Equal("from-file", Encoding.UTF8.GetString(Pkcs11Uri.Parse($"pkcs11:object=k?pin-source={file}").Pin(environment)!));
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Throws<KeyFormatException>(() => Pkcs11Uri.Parse("pkcs11:object=k?pin-source=/nonexistent/pin").Pin(environment));
        Assert.Equal("from-env", Encoding.UTF8.GetString(Pkcs11Uri.Parse("pkcs11:object=k").Pin(environment)!));
        Assert.Null(Pkcs11Uri.Parse("pkcs11:object=k").Pin(_ => null));
        var noModule = Assert.Throws<KeyFormatException>(() => Pkcs11Uri.Parse("pkcs11:object=k").ModulePath(_ => null));
        Assert.Contains(Pkcs11Uri.ModuleVariable, noModule.Hint, StringComparison.Ordinal);
    }
}
