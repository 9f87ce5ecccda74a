using System.Text.Json;

namespace VoiceVault.Cli.Tests;

/// <summary>`voicevault rewrap DETAILS…`: local details files re-wrapped to a new key, proven by the media's tag first.</summary>
public sealed class RewrapFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vv-rewrap-files-").FullName;

    private string P(string name) => Path.Combine(_dir, name);

    private Run Vv(params string[] args) => Tools.Voicevault(_dir, args);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Details_files_are_rewrapped_in_place_keep_their_spelling_and_decrypt_with_the_new_key_alone()
    {
        Directory.CreateDirectory(P("in"));
        Vv("keygen", "--out", P("old.pem"), "--public-out", P("old.pub"), "--bits", "2048").Ok();
        Vv("keygen", "--out", P("new.pem"), "--public-out", P("new.pub"), "--bits", "2048").Ok();
        var plain = P("call.plain");
        File.WriteAllBytes(plain, VoiceVault.Tests.Shared.TestWav.Build(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16000)));
        const string oldSid = "CR11111111111111111111111111111111", newSid = "CR22222222222222222222222222222222";
        Vv("encrypt", plain, "--public-key", P("old.pub"), "--key-sid", oldSid, "-o", P("in/a.wav"), "--details-out", P("in/a.json")).Ok();
        Vv("encrypt", plain, "--public-key", P("old.pub"), "--key-sid", oldSid, "-o", P("in/b.wav"), "--details-out", P("in/b.json")).Ok();
        // a's details stay as encrypt wrote them; b's become a Recording resource in the callback's spelling, with fields of its own.
        var callback = JsonDocument.Parse(File.ReadAllText(P("in/b.json"))).RootElement;
        var cek = callback.GetProperty("encryption_cek").GetString();
        var iv = callback.GetProperty("iv").GetString();
        File.WriteAllText(P("in/b.json"), $$$"""
            {"sid": "RE{{{new string('b', 32)}}}", "status": "completed", "encryption_details": {"type": "rsa-aes",
             "public_key_sid": "{{{oldSid}}}", "encrypted_cek": "{{{cek}}}", "iv": "{{{iv}}}"}}
            """);
        var before = File.ReadAllText(P("in/a.json"));

        var run = Vv("rewrap", P("in/a.json"), P("in/b.json"), "--key", P("old.pem"), "--to-public-key", P("new.pub"), "--to-sid", newSid, "--json").Ok();
        Assert.Equal(2, JsonDocument.Parse(run.Text).RootElement.GetProperty("rewrapped").GetInt32());
        Assert.Equal(before, File.ReadAllText(P($"in/a.json.{oldSid}.bak")));
        var a = JsonDocument.Parse(File.ReadAllText(P("in/a.json"))).RootElement;
        Assert.Equal(newSid, a.GetProperty("encryption_public_key_sid").GetString());
        Assert.NotEqual(JsonDocument.Parse(before).RootElement.GetProperty("encryption_cek").GetString(), a.GetProperty("encryption_cek").GetString());
        var b = JsonDocument.Parse(File.ReadAllText(P("in/b.json"))).RootElement;
        Assert.Equal("completed", b.GetProperty("status").GetString());
        Assert.Equal(newSid, b.GetProperty("encryption_details").GetProperty("public_key_sid").GetString());
        Assert.False(b.GetProperty("encryption_details").TryGetProperty("encryption_public_key_sid", out _));

        // The old key gone: the new one alone decrypts both.
        File.Delete(P("old.pem"));
        Vv("decrypt", "--batch", P("in"), "--key", P("new.pem"), "--out", P("out")).Ok();
        Assert.Equal(File.ReadAllBytes(plain), File.ReadAllBytes(P("out/a.wav")));
        Assert.Equal(File.ReadAllBytes(plain), File.ReadAllBytes(P("out/b.wav")));
    }

    [Fact]
    public void Media_whose_tag_fails_is_not_rewrapped_and_its_details_are_untouched()
    {
        Directory.CreateDirectory(P("in"));
        Vv("keygen", "--out", P("old.pem"), "--public-out", P("old.pub"), "--bits", "2048").Ok();
        Vv("keygen", "--out", P("new.pem"), "--public-out", P("new.pub"), "--bits", "2048").Ok();
        var plain = P("call.plain");
        File.WriteAllBytes(plain, VoiceVault.Tests.Shared.TestWav.Build(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16000)));
        Vv("encrypt", plain, "--public-key", P("old.pub"), "-o", P("in/a.wav"), "--details-out", P("in/a.json")).Ok();
        var media = File.ReadAllBytes(P("in/a.wav"));
        media[^20] ^= 1;
        File.WriteAllBytes(P("in/a.wav"), media);
        var before = File.ReadAllText(P("in/a.json"));
        var tampered = Vv("rewrap", P("in/a.json"), "--key", P("old.pem"), "--to-public-key", P("new.pub"), "--to-sid", "CR" + new string('2', 32));
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains("failed   a.json: authentication failed", tampered.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(P("in/a.json")));
        Assert.Empty(Directory.EnumerateFiles(P("in"), "*.bak"));
        // Without its media beside it, a details file is refused with the reason.
        File.Delete(P("in/a.wav"));
        var lonely = Vv("rewrap", P("in/a.json"), "--key", P("old.pem"), "--to-public-key", P("new.pub"), "--to-sid", "CR" + new string('2', 32));
        Assert.Equal(1, lonely.ExitCode);
        Assert.Contains("no media beside a.json", lonely.Stderr, StringComparison.Ordinal);
    }
}
