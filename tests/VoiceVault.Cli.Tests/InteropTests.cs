using System.Security.Cryptography;

namespace VoiceVault.Cli.Tests;

/// <summary>Both directions against independent implementations: Python's cryptography and openssl.</summary>
public sealed class InteropTests : CliTest
{
    public static TheoryData<string> KeyKinds => new("openssl-genrsa", "openssl-genrsa-traditional", "openssl-pkcs8-encrypted", "openssl-pkcs8-der", "openssl-4096");

    private string MakeKey(string kind)
    {
        switch (kind)
        {
            case "openssl-genrsa":
                Tools.Openssl(Dir, "genrsa", "-out", P("key.pem"), "2048").Ok();
                return P("key.pem");
            case "openssl-genrsa-traditional":
                Tools.Openssl(Dir, "genrsa", "-traditional", "-out", P("key.pem"), "2048").Ok();
                return P("key.pem");
            case "openssl-pkcs8-encrypted":
                Tools.Openssl(Dir, "genrsa", "-out", P("plain.pem"), "2048").Ok();
                Tools.Openssl(Dir, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", P("plain.pem"), "-out", P("key.pem"), "-passout", "pass:open sesame").Ok();
                File.WriteAllText(P("pass.txt"), "open sesame\n");
                return P("key.pem");
            case "openssl-pkcs8-der":
                Tools.Openssl(Dir, "genrsa", "-out", P("plain.pem"), "2048").Ok();
                Tools.Openssl(Dir, "pkcs8", "-topk8", "-nocrypt", "-in", P("plain.pem"), "-outform", "DER", "-out", P("key.der")).Ok();
                return P("key.der");
            default:
                Tools.Openssl(Dir, "genrsa", "-out", P("key.pem"), "4096").Ok();
                return P("key.pem");
        }
    }

    [Theory]
    [MemberData(nameof(KeyKinds))]
    public void Python_encrypted_recordings_decrypt_with_openssl_made_keys(string kind)
    {
        var key = MakeKey(kind);
        Tools.Openssl(Dir, "pkey", "-in", key, "-pubout", "-out", P("pub.pem"), "-passin", "pass:open sesame").Ok();
        var wav = Wav("call.wav", 48_000);
        Tools.Py(Dir, "platform_encrypt.py", P("pub.pem"), wav, P("call.enc"), P("call.json"), "CR" + new string('1', 32)).Ok();

        string[] passphrase = kind == "openssl-pkcs8-encrypted" ? ["--passphrase-file", P("pass.txt")] : [];
        Vv(["decrypt", P("call.enc"), "--key", key, "--details", P("call.json"), "-o", P("out.wav"), .. passphrase]).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("out.wav")));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    // The whole file (44-byte header + body) exactly one pipeline chunk (256 KiB), and one byte more.
    [InlineData((256 << 10) - 44)]
    [InlineData((256 << 10) - 43)]
    [InlineData(5_000_003)]
    public void Voicevault_encrypted_recordings_decrypt_with_Pythons_chunked_loop(int bodyBytes)
    {
        Vv("keygen", "--out", P("k.pem"), "--public-out", P("k.pub"), "--bits", "2048").Ok();
        var wav = Wav("call.wav", bodyBytes);
        Vv("encrypt", wav, "--public-key", P("k.pub"), "-o", P("call.enc"), "--details-out", P("call.json")).Ok();
        Assert.Equal(new FileInfo(wav).Length + 16, new FileInfo(P("call.enc")).Length);
        Tools.Py(Dir, "reference_decrypt.py", P("k.pem"), P("call.json"), P("call.enc"), P("py.wav")).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("py.wav")));
    }

    [Fact]
    public void An_empty_file_becomes_a_bare_tag_and_comes_back_empty()
    {
        Vv("keygen", "--out", P("k.pem"), "--public-out", P("k.pub"), "--bits", "2048").Ok();
        File.WriteAllBytes(P("empty"), []);
        Vv("encrypt", P("empty"), "--public-key", P("k.pub"), "-o", P("empty.enc"), "--quiet").Ok();
        Assert.Equal(16, new FileInfo(P("empty.enc")).Length);
        Vv("decrypt", P("empty.enc"), "--key", P("k.pem"), "--details", P("empty.enc.json"), "-o", P("out")).Ok();
        Assert.Equal(0, new FileInfo(P("out")).Length);
        Tools.Py(Dir, "reference_decrypt.py", P("k.pem"), P("empty.enc.json"), P("empty.enc"), P("py")).Ok();
        Assert.Equal(0, new FileInfo(P("py")).Length);
    }

    [Fact]
    public void A_CEK_wrapped_by_openssl_pkeyutl_unwraps_in_voicevault()
    {
        Tools.Openssl(Dir, "genrsa", "-out", P("k.pem"), "2048").Ok();
        Tools.Openssl(Dir, "pkey", "-in", P("k.pem"), "-pubout", "-out", P("k.pub")).Ok();
        var cek = RandomNumberGenerator.GetBytes(32);
        File.WriteAllBytes(P("cek.bin"), cek);
        Tools.Openssl(Dir, "pkeyutl", "-encrypt", "-pubin", "-inkey", P("k.pub"), "-in", P("cek.bin"), "-out", P("cek.wrapped"),
            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256").Ok();
        // The content under that same CEK, by Python; the IV from its details.
        var wav = Wav("call.wav", 30_000);
        Tools.Py(Dir, "platform_encrypt.py", P("k.pub"), wav, P("call.enc"), P("py.json"), "--cek-hex", Convert.ToHexString(cek)).Ok();
        var iv = System.Text.Json.JsonDocument.Parse(File.ReadAllText(P("py.json"))).RootElement.GetProperty("iv").GetString()!;

        Vv("decrypt", P("call.enc"), "--key", P("k.pem"), "--cek", Convert.ToBase64String(File.ReadAllBytes(P("cek.wrapped"))), "--iv", iv, "-o", P("out.wav")).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("out.wav")));
    }

    [Fact]
    public void A_CEK_wrapped_by_voicevault_unwraps_with_openssl_pkeyutl()
    {
        Tools.Openssl(Dir, "genrsa", "-out", P("k.pem"), "3072").Ok();
        Tools.Openssl(Dir, "pkey", "-in", P("k.pem"), "-pubout", "-out", P("k.pub")).Ok();
        var wav = Wav("call.wav", 70_000);
        Vv("encrypt", wav, "--public-key", P("k.pub"), "-o", P("call.enc")).Ok();
        var details = System.Text.Json.JsonDocument.Parse(File.ReadAllText(P("call.enc.json"))).RootElement;
        File.WriteAllBytes(P("cek.wrapped"), Convert.FromBase64String(details.GetProperty("encryption_cek").GetString()!));
        Tools.Openssl(Dir, "pkeyutl", "-decrypt", "-inkey", P("k.pem"), "-in", P("cek.wrapped"), "-out", P("cek.bin"),
            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256").Ok();
        var cek = File.ReadAllBytes(P("cek.bin"));
        Assert.Equal(32, cek.Length);
        // With the CEK openssl recovered, Python decrypts the content: nothing of voicevault involved.
        Tools.Py(Dir, "reference_decrypt.py", "-", P("call.enc.json"), P("call.enc"), P("py.wav"), "--cek-hex", Convert.ToHexString(cek)).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("py.wav")));
    }

    [Fact]
    public void The_managed_engine_reads_and_writes_the_same_format()
    {
        var managed = new Dictionary<string, string> { ["VOICEVAULT_GCM"] = "managed" };
        Vv("keygen", "--out", P("k.pem"), "--public-out", P("k.pub"), "--bits", "2048").Ok();
        var wav = Wav("call.wav", 3_000_001);
        Tools.Voicevault(Dir, null, managed, "encrypt", wav, "--public-key", P("k.pub"), "-o", P("call.enc")).Ok();
        Tools.Py(Dir, "reference_decrypt.py", P("k.pem"), P("call.enc.json"), P("call.enc"), P("py.wav")).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("py.wav")));
        Tools.Py(Dir, "platform_encrypt.py", P("k.pub"), wav, P("py.enc"), P("py.json")).Ok();
        Tools.Voicevault(Dir, null, managed, "decrypt", P("py.enc"), "--key", P("k.pem"), "--details", P("py.json"), "-o", P("out.wav")).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("out.wav")));
    }
}
