using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Crypto.Tests;

/// <summary>
/// What the key-file classifier says each kind of file is: the words a refusal shows the user,
/// and the kind and encoding an import relies on. Rows are names, the same in every enumeration.
/// </summary>
public sealed class ClassifierTests
{
    public static TheoryData<string> Files() =>
    [
        "rsa-pkcs8-pem", "rsa-pkcs8-der", "rsa-pkcs1-pem", "rsa-pkcs1-der", "rsa-public-pkcs1-pem", "rsa-public-pkcs1-der", "rsa-spki-pem", "rsa-spki-der",
        "encrypted-pem", "encrypted-der", "rsa-pss", "ed448", "x448", "dh", "ec-parameters-first", "dh-parameters-first", "dsa-traditional", "putty", "der-trailing",
        "pem-trailing", "der-three-integers", "der-boolean", "unknown-oid", "certificate-like",
    ];

    private static (byte[] Content, string Description, KeyKind Kind, string Encoding) File(string name)
    {
        var key = TestData.Key;
        byte[] Pem(string text) => Encoding.ASCII.GetBytes(text);
        byte[] Openssl(params string[] args) => Tests.Openssl.Run(["genpkey", .. args]);
        var pbe = new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1000);
        switch (name)
        {
            case "rsa-pkcs8-pem": return (Pem(key.ExportPkcs8PrivateKeyPem()), "an RSA private key (PKCS#8, PEM)", KeyKind.RsaPrivatePkcs8, "PEM");
            case "rsa-pkcs8-der": return (key.ExportPkcs8PrivateKey(), "an RSA private key (PKCS#8, DER)", KeyKind.RsaPrivatePkcs8, "DER");
            case "rsa-pkcs1-pem": return (Pem(key.ExportRSAPrivateKeyPem()), "an RSA private key (PKCS#1, PEM)", KeyKind.RsaPrivatePkcs1, "PEM");
            case "rsa-pkcs1-der": return (key.ExportRSAPrivateKey(), "an RSA private key (PKCS#1, DER)", KeyKind.RsaPrivatePkcs1, "DER");
            case "rsa-public-pkcs1-pem": return (Pem(key.ExportRSAPublicKeyPem()), "an RSA public key (PKCS#1, PEM)", KeyKind.RsaPublicPkcs1, "PEM");
            case "rsa-public-pkcs1-der": return (key.ExportRSAPublicKey(), "an RSA public key (PKCS#1, DER)", KeyKind.RsaPublicPkcs1, "DER");
            case "rsa-spki-pem": return (Pem(key.ExportSubjectPublicKeyInfoPem()), "an RSA public key (SubjectPublicKeyInfo, PEM)", KeyKind.RsaPublicSpki, "PEM");
            case "rsa-spki-der": return (key.ExportSubjectPublicKeyInfo(), "an RSA public key (SubjectPublicKeyInfo, DER)", KeyKind.RsaPublicSpki, "DER");
            case "encrypted-pem":
                return (Pem(key.ExportEncryptedPkcs8PrivateKeyPem("pw", pbe)), "an encrypted PKCS#8 private key (PEM)", KeyKind.EncryptedPkcs8, "PEM");
            case "encrypted-der": return (key.ExportEncryptedPkcs8PrivateKey("pw", pbe), "an encrypted PKCS#8 private key (DER)", KeyKind.EncryptedPkcs8, "DER");
            case "rsa-pss":
                return (Openssl("-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"), "an RSASSA-PSS private key (PKCS#8, PEM)", KeyKind.Unusable, "");
            case "ed448": return (Openssl("-algorithm", "ed448"), "an Ed448 private key (PKCS#8, PEM)", KeyKind.Unusable, "");
            case "x448": return (Openssl("-algorithm", "x448"), "an X448 private key (PKCS#8, PEM)", KeyKind.Unusable, "");
            case "dh": return (Openssl("-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"), "a DH private key (PKCS#8, PEM)", KeyKind.Unusable, "");
            case "ec-parameters-first":
                using (var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    // What `openssl ecparam -genkey` writes: the curve's parameters, then the key.
                    var parameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
                    return (Pem(parameters + ec.ExportECPrivateKeyPem()), "an EC private key (SEC 1, PEM)", KeyKind.Unusable, "");
                }
            case "dh-parameters-first":
                // A parameters block is not a key: skipped, whatever follows is what the file holds.
                var dhParameters = PemEncoding.WriteString("DH PARAMETERS", Sequence(w => { w.WriteInteger(23); w.WriteInteger(5); }));
                return (Pem(dhParameters + "\n" + key.ExportSubjectPublicKeyInfoPem()), "an RSA public key (SubjectPublicKeyInfo, PEM)", KeyKind.RsaPublicSpki, "PEM");
            case "dsa-traditional": return (Sequence(w => { for (int i = 0; i < 6; i++) { w.WriteInteger(i + 1); } }), "a DSA private key (DER)", KeyKind.Unusable, "");
            case "putty": return (Pem("PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\n"), "a PuTTY key file", KeyKind.Unusable, "");
            case "der-trailing": return ([.. key.ExportPkcs8PrivateKey(), 0x00], "damaged DER data (bytes after the key structure)", KeyKind.Unusable, "");
            case "pem-trailing":
                var block = PemEncoding.WriteString("PRIVATE KEY", [.. key.ExportPkcs8PrivateKey(), 0x05, 0x00]);
                return (Pem(block), "a PEM block 'PRIVATE KEY' whose content is truncated or damaged", KeyKind.Unusable, "");
            case "der-three-integers": return (Sequence(w => { w.WriteInteger(1); w.WriteInteger(2); w.WriteInteger(3); }), "DER data that is not a key structure", KeyKind.Unusable, "");
            case "der-boolean": return (Sequence(w => w.WriteBoolean(true)), "DER data that is not a key structure", KeyKind.Unusable, "");
            case "unknown-oid":
                return (Sequence(w =>
                {
                    using (w.PushSequence())
                    {
                        w.WriteObjectIdentifier("1.2.3.4");
                    }
                    w.WriteBitString([1, 2, 3]);
                }), "a unknown-algorithm (OID 1.2.3.4) public key (SubjectPublicKeyInfo, DER)", KeyKind.Unusable, "");
            case "certificate-like":
                return (Sequence(w =>
                {
                    using (w.PushSequence())
                    {
                        w.WriteInteger(1);
                    }
                    w.WriteInteger(2);
                }), "an X.509 certificate or other signed structure (DER), not a key", KeyKind.Unusable, "");
            default: throw new ArgumentOutOfRangeException(nameof(name), name, "no such row");
        }
    }

    private static byte[] Sequence(Action<AsnWriter> write)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            write(writer);
        }
        return writer.Encode();
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_file_is_called_what_it_is(string name)
    {
        var (content, description, kind, encoding) = File(name);
        var info = KeyFileClassifier.Describe(content);
        Assert.Equal(description, info.Description);
        Assert.Equal(kind, info.Kind);
        Assert.Equal(encoding, info.Encoding);
        Assert.Equal(kind == KeyKind.Unusable, info.Der is null);
    }

    [Theory]
    [InlineData("plain words\tand a tab\r\nand lines ~", true)]
    [InlineData(" space first", true)]
    [InlineData("bell \u0007 in it", false)]
    [InlineData("backspace \u0008 in it", false)]
    [InlineData("shift-out \u000e in it", false)]
    [InlineData("unit separator \u001f in it", false)]
    [InlineData("delete \u007f in it", false)]
    [InlineData("vertical tab \u000b and form feed \u000c", true)]
    public void Text_and_binary_are_told_apart_by_their_bytes(string content, bool text)
    {
        var info = KeyFileClassifier.Describe(Encoding.Latin1.GetBytes(content));
        Assert.Equal(text ? "text that is not a key (no -----BEGIN line)" : "binary data that is neither PEM nor DER", info.Description);
    }

    [Fact]
    public void Only_the_first_512_bytes_decide_whether_a_file_is_text()
    {
        var content = Encoding.ASCII.GetBytes(new string('a', 512) + "\u0001");
        Assert.Equal("text that is not a key (no -----BEGIN line)", KeyFileClassifier.Describe(content).Description);
    }
}
