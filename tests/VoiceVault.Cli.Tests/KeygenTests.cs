namespace VoiceVault.Cli.Tests;

public sealed class KeygenTests : CliTest
{
    // Built, not written out, so that secret scanners do not mistake these tests for leaked keys.
    private static string Begin(string label) => "-----BEGIN " + label + "-----";

    [Fact]
    public void Keygen_writes_a_0600_PKCS8_private_key_and_a_public_key_openssl_reads()
    {
        Vv("keygen", "--out", P("k.pem"), "--public-out", P("k.pub"), "--bits", "2048").Ok();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(P("k.pem")));
        Assert.StartsWith(Begin("PRIVATE KEY"), File.ReadAllText(P("k.pem")), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", File.ReadAllText(P("k.pub")), StringComparison.Ordinal);
        Assert.Contains("Private-Key: (2048 bit", Tools.Openssl(Dir, "pkey", "-in", P("k.pem"), "-noout", "-text").Ok().Text, StringComparison.Ordinal);
        var derived = Tools.Openssl(Dir, "pkey", "-in", P("k.pem"), "-pubout").Ok().Text;
        Assert.Equal(derived.Trim(), File.ReadAllText(P("k.pub")).Trim());
    }

    [Fact]
    public void Keygen_pkcs1_and_3072_bits_default()
    {
        var run = Vv("keygen", "--out", P("k.pem"), "--pkcs1").Ok();
        Assert.StartsWith(Begin("RSA PRIVATE KEY"), File.ReadAllText(P("k.pem")), StringComparison.Ordinal);
        Assert.Contains("Private-Key: (3072 bit", Tools.Openssl(Dir, "pkey", "-in", P("k.pem"), "-noout", "-text").Ok().Text, StringComparison.Ordinal);
        // Without --public-out the public key is printed, ready to paste into the credential API.
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", run.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Keygen_encrypt_protects_the_key_with_a_passphrase_from_the_environment()
    {
        Tools.Voicevault(Dir, null, new Dictionary<string, string> { ["VOICEVAULT_PASSPHRASE"] = "s3cret words" },
            "keygen", "--out", P("k.pem"), "--bits", "2048", "--encrypt").Ok();
        Assert.StartsWith(Begin("ENCRYPTED PRIVATE KEY"), File.ReadAllText(P("k.pem")), StringComparison.Ordinal);
        Tools.Openssl(Dir, "pkey", "-in", P("k.pem"), "-passin", "pass:s3cret words", "-noout").Ok();
        Assert.NotEqual(0, Tools.Openssl(Dir, "pkey", "-in", P("k.pem"), "-passin", "pass:wrong", "-noout").ExitCode);
    }

    [Fact]
    public void Keygen_refuses_to_overwrite_a_key_and_odd_sizes()
    {
        File.WriteAllText(P("k.pem"), "precious");
        Vv("keygen", "--out", P("k.pem")).Failed("refusing to overwrite a private key");
        Assert.Equal("precious", File.ReadAllText(P("k.pem")));
        Vv("keygen", "--out", P("other.pem"), "--bits", "1024").Failed("--bits 1024 is not offered");
        Assert.False(File.Exists(P("other.pem")));
    }

    [Fact]
    public void There_is_no_passphrase_option_on_the_command_line()
    {
        var run = Vv("keygen", "--out", P("k.pem"), "--encrypt", "--passphrase", "visible-in-ps");
        Assert.Equal(1, run.ExitCode); // a usage error, not a crash
        Assert.Contains("Unrecognized command or argument '--passphrase'", run.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("k.pem")));
    }

    [Fact]
    public void Pubkey_prints_the_public_key_of_any_private_key_encoding()
    {
        Tools.Openssl(Dir, "genrsa", "-traditional", "-out", P("pkcs1.pem"), "2048").Ok();
        Tools.Openssl(Dir, "pkcs8", "-topk8", "-nocrypt", "-in", P("pkcs1.pem"), "-outform", "DER", "-out", P("key.der")).Ok();
        var expected = Tools.Openssl(Dir, "pkey", "-in", P("pkcs1.pem"), "-pubout").Ok().Text.Trim();
        Assert.Equal(expected, Vv("pubkey", P("pkcs1.pem")).Ok().Text.Trim());
        Vv("pubkey", P("key.der"), "-o", P("pub.pem")).Ok();
        Assert.Equal(expected, File.ReadAllText(P("pub.pem")).Trim());
    }
}
