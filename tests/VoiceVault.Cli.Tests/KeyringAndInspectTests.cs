using System.Security.Cryptography;
using System.Text.Json;

namespace VoiceVault.Cli.Tests;

public sealed class KeyringAndInspectTests : CliTest
{
    private const string Sid = "CR0123456789abcdef0123456789abcdef";

    [Fact]
    public void A_keyring_picks_the_key_by_sid_and_says_which_key_matched_an_unknown_sid()
    {
        Vv("keygen", "--out", P("k.pem"), "--public-out", P("k.pub"), "--bits", "2048").Ok();
        Vv("keyring", "add", "--keyring", P("keys"), P("k.pem"), "--sid", Sid).Ok();
        Assert.Contains(Sid, Vv("keyring", "list", "--keyring", P("keys")).Ok().Text, StringComparison.Ordinal);
        var wav = Wav("call.wav", 10_000);

        Vv("encrypt", wav, "--public-key", P("k.pub"), "--key-sid", Sid, "-o", P("a.enc")).Ok();
        var named = Vv("decrypt", P("a.enc"), "--keyring", P("keys"), "--details", P("a.enc.json"), "-o", P("a.wav")).Ok();
        Assert.DoesNotContain("note:", named.Stderr, StringComparison.Ordinal);

        Vv("encrypt", wav, "--public-key", P("k.pub"), "--key-sid", "CR" + new string('9', 32), "-o", P("b.enc")).Ok();
        var tried = Vv("decrypt", P("b.enc"), "--keyring", P("keys"), "--details", P("b.enc.json"), "-o", P("b.wav")).Ok();
        Assert.Contains($"note: the keyring has no key filed under CR{new string('9', 32)}; key {Sid}", tried.Stderr, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("b.wav")));
    }

    [Fact]
    public void Inspect_shows_details_and_key_fingerprints_and_whether_a_key_matches()
    {
        Tools.Openssl(Dir, "genrsa", "-out", P("k.pem"), "2048").Ok();
        Tools.Openssl(Dir, "pkey", "-in", P("k.pem"), "-pubout", "-out", P("k.pub")).Ok();
        Vv("keygen", "--out", P("other.pem"), "--bits", "2048").Ok();
        var wav = Wav("call.wav", 10_000);
        Vv("encrypt", wav, "--public-key", P("k.pub"), "--key-sid", Sid, "-o", P("c.enc")).Ok();

        var spki = Tools.Openssl(Dir, "pkey", "-pubin", "-in", P("k.pub"), "-outform", "DER").Ok().Stdout;
        var fingerprint = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(spki));

        var run = Vv("inspect", P("c.enc.json"), P("k.pub"), P("k.pem"), P("call.wav"), "--key", P("k.pem"), "--json").Ok();
        var reports = JsonDocument.Parse(run.Text).RootElement.EnumerateArray().ToArray();
        Assert.Equal(Sid, reports[0].GetProperty("public_key_sid").GetString());
        Assert.True(reports[0].GetProperty("key_matches").GetBoolean());
        Assert.Contains("2048-bit", reports[0].GetProperty("wrapped_cek").GetString(), StringComparison.Ordinal);
        Assert.Equal(fingerprint, reports[1].GetProperty("fingerprint").GetString());
        Assert.Equal(fingerprint, reports[2].GetProperty("fingerprint").GetString());
        Assert.Contains("RSA private key (PKCS#8, PEM)", reports[2].GetProperty("what").GetString(), StringComparison.Ordinal);
        Assert.Equal(8000, reports[3].GetProperty("sample_rate").GetInt32());

        var mismatch = Vv("inspect", P("c.enc.json"), "--key", P("other.pem"));
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("key matches: no", mismatch.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_names_unusable_key_files()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(P("ec.pem"), ec.ExportPkcs8PrivateKeyPem());
        var run = Vv("inspect", P("ec.pem")).Ok();
        Assert.Contains("an EC private key (PKCS#8, PEM)", run.Text, StringComparison.Ordinal);
        Assert.Contains("usable: no", run.Text, StringComparison.Ordinal);
    }
}
