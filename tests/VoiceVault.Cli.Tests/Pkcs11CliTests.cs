using System.Text.Json;
using VoiceVault.Tests.Shared;

namespace VoiceVault.Cli.Tests;

/// <summary>
/// `voicevault` with keys in PKCS#11 tokens, as a user runs it: a throwaway SoftHSM2 token
/// (OAEP decoding on the host, as that token needs) and openCryptoki's software token (the whole
/// OAEP-SHA256 unwrap inside the token, the default).
/// </summary>
public sealed class Pkcs11CliTests : CliTest
{
    private Run Vv(IDictionary<string, string> env, params string[] args) => Tools.Voicevault(Dir, null, env, args);

    [Fact]
    public void A_key_made_in_softhsm_decrypts_serves_a_keyring_and_rewrap_and_a_wrong_pin_says_so()
    {
        using var hsm = new SoftHsm();
        var token = hsm.Token("vault");
        var env = hsm.Environment();
        var uri = $"pkcs11:token={token};object=recordings";
        var made = JsonDocument.Parse(Vv(env, "keygen", "--pkcs11", uri, "--public-out", P("hsm.pub"), "--bits", "2048", "--json").Ok().Text).RootElement;
        Assert.Equal("pkcs11", made.GetProperty("format").GetString());
        Assert.Equal(File.ReadAllText(P("hsm.pub")), Vv(env, "pubkey", uri).Ok().Text);
        Vv(env, "keygen", "--pkcs11", uri, "--public-out", P("again.pub")).Failed("already holds an object labelled 'recordings'");
        Vv(env, "keygen", "--pkcs11", $"pkcs11:token={token};object=x", "--out", P("x.pem")).Failed("give exactly one of --out");
        Vv(env, "keygen", "--pkcs11", $"pkcs11:token={token};object=x", "--encrypt").Failed("stays in its token");
        Assert.DoesNotContain(Listing(), f => f.StartsWith("x.", StringComparison.Ordinal) || f == "again.pub");

        var wav = Wav("call.wav", 40_000);
        const string sid = "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        Vv("encrypt", wav, "--public-key", P("hsm.pub"), "--key-sid", sid, "-o", P("a.enc")).Ok();
        Vv(env, "decrypt", P("a.enc"), "--details", P("a.enc.json"), "--key", uri, "-o", P("a.wav")).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("a.wav")));
        Assert.Contains("matches: yes", Vv(env, "inspect", P("a.enc.json"), "--key", uri).Ok().Text, StringComparison.Ordinal);

        var wrongPin = Vv(hsm.Environment(pin: "000000"), "decrypt", P("a.enc"), "--details", P("a.enc.json"), "--key", uri, "-o", P("b.wav"));
        wrongPin.Failed($"the PIN for token '{token}' is wrong");
        Assert.DoesNotContain("000000", wrongPin.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("b.wav")));

        // Without the host's OAEP, SoftHSM2's missing OAEP-SHA256 is named, with the way out.
        var strict = hsm.Environment();
        strict.Remove("VOICEVAULT_PKCS11_OAEP");
        Vv(strict, "decrypt", P("a.enc"), "--details", P("a.enc.json"), "--key", uri, "-o", P("b.wav"))
            .Failed("refuses CKM_RSA_PKCS_OAEP with SHA-256");

        // A keyring entry is the URI; the PIN stays in the environment.
        Vv(env, "keyring", "add", "--keyring", P("ring"), uri, "--sid", sid).Ok();
        Assert.DoesNotContain(hsm.Pin, string.Concat(Directory.EnumerateFiles(P("ring")).Select(File.ReadAllText)), StringComparison.Ordinal);
        Vv(env, "decrypt", P("a.enc"), "--details", P("a.enc.json"), "--keyring", P("ring"), "-o", P("c.wav")).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("c.wav")));

        // Rotation away from the token key: rewrap proves the tag with the token's unwrap first.
        Directory.CreateDirectory(P("in"));
        File.Copy(P("a.enc"), P("in/a.wav"));
        File.Copy(P("a.enc.json"), P("in/a.json"));
        Vv("keygen", "--out", P("new.pem"), "--public-out", P("new.pub"), "--bits", "2048").Ok();
        const string newSid = "CRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        Vv(env, "rewrap", P("in/a.json"), "--key", uri, "--to-public-key", P("new.pub"), "--to-sid", newSid).Ok();
        Vv("decrypt", "--batch", P("in"), "--key", P("new.pem"), "--out", P("out")).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("out/a.wav")));
    }

    [Fact]
    public void With_opencryptoki_the_whole_oaep_sha256_unwrap_runs_in_the_token()
    {
        var token = OpenCryptoki.Fresh();
        var env = token.Environment();
        var uri = $"pkcs11:token={token.Label};object=recordings";
        Vv(env, "keygen", "--pkcs11", uri, "--public-out", P("ock.pub"), "--bits", "2048").Ok();
        var wav = Wav("call.wav", 40_000);
        // Encrypted as the platform does it, by Python's cryptography: the token's OAEP reads the standard encoding.
        Tools.Py(Dir, "platform_encrypt.py", P("ock.pub"), wav, P("a.enc"), P("a.json")).Ok();
        var run = Vv(env, "decrypt", P("a.enc"), "--details", P("a.json"), "--key", uri, "-o", P("a.wav")).Ok();
        Assert.Contains("tag verified", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("a.wav")));

        // The host's OAEP is not needed here, and a damaged wrap is refused by the token itself.
        var details = JsonDocument.Parse(File.ReadAllText(P("a.json"))).RootElement;
        var wrapped = Convert.FromBase64String(details.GetProperty("encrypted_cek").GetString()!);
        wrapped[7] ^= 0x40;
        Vv(env, "decrypt", P("a.enc"), "--cek", Convert.ToBase64String(wrapped), "--iv", details.GetProperty("iv").GetString()!, "--key", uri, "-o", P("x.wav"))
            .Failed("does not unwrap the recording's content key");
        Assert.False(File.Exists(P("x.wav")));
    }
}
