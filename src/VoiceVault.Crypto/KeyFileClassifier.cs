using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Crypto;

/// <summary>
/// Tells key structures apart by their outer ASN.1 shape (read with the BCL's AsnReader) so that
/// a refusal can say what the file really is. Importing is left to the BCL.
/// </summary>
internal static class KeyFileClassifier
{
    private const string RsaOid = "1.2.840.113549.1.1.1";

    private static readonly Dictionary<string, string> Algorithms = new()
    {
        [RsaOid] = "RSA",
        ["1.2.840.113549.1.1.10"] = "RSASSA-PSS",
        ["1.2.840.10045.2.1"] = "EC",
        ["1.3.101.112"] = "Ed25519",
        ["1.3.101.113"] = "Ed448",
        ["1.3.101.110"] = "X25519",
        ["1.3.101.111"] = "X448",
        ["1.2.840.10040.4.1"] = "DSA",
        ["1.2.840.113549.1.3.1"] = "DH",
    };

    public static KeyFileInfo Describe(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty)
        {
            return Unusable("an empty file");
        }
        if (content.IndexOf("-----BEGIN "u8) >= 0)
        {
            return DescribePem(Encoding.UTF8.GetString(content));
        }
        if (content.StartsWith("ssh-"u8) || content.StartsWith("ecdsa-sha2-"u8))
        {
            return Unusable("an OpenSSH public key (the authorized_keys format)");
        }
        if (content.StartsWith("PuTTY-User-Key-File"u8))
        {
            return Unusable("a PuTTY key file");
        }
        if (content[0] == 0x30)
        {
            return DescribeDer(content.ToArray(), "DER");
        }
        return Unusable(LooksLikeText(content)
            ? "text that is not a key (no -----BEGIN line)"
            : "binary data that is neither PEM nor DER");
    }

    private static KeyFileInfo DescribePem(string text)
    {
        if (text.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            return Unusable("a legacy OpenSSL-encrypted PEM key (Proc-Type: 4,ENCRYPTED), which is not supported");
        }
        ReadOnlySpan<char> rest = text;
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var base64 = rest[fields.Base64Data];
            rest = rest[fields.Location.End.Value..];
            if (label is "EC PARAMETERS" or "DH PARAMETERS")
            {
                continue;
            }
            if (label == "OPENSSH PRIVATE KEY")
            {
                return Unusable("an OpenSSH private key (BEGIN OPENSSH PRIVATE KEY)");
            }
            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(base64, der, out int written) || written != der.Length)
            {
                return Unusable($"a damaged PEM block '{label}' (its base64 does not decode)");
            }
            var info = DescribeDer(der, "PEM");
            return info.Kind == KeyKind.Unusable && info.Description.StartsWith("damaged", StringComparison.Ordinal)
                ? Unusable($"a PEM block '{label}' whose content is truncated or damaged")
                : info;
        }
        return Unusable("a truncated or damaged PEM file (a -----BEGIN line without a valid body and matching -----END line)");
    }

    private static KeyFileInfo DescribeDer(byte[] der, string encoding)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.BER);
            var seq = outer.ReadSequence();
            if (outer.HasData)
            {
                return Unusable($"damaged {encoding} data (bytes after the key structure)");
            }
            var first = seq.PeekTag();
            if (first.HasSameClassAndValue(Asn1Tag.Integer))
            {
                seq.ReadEncodedValue();
                var second = seq.PeekTag();
                if (second.HasSameClassAndValue(Asn1Tag.Sequence))
                {
                    // PrivateKeyInfo (RFC 5208): version, AlgorithmIdentifier, privateKey.
                    var algorithm = AlgorithmName(seq.ReadSequence().ReadObjectIdentifier());
                    return algorithm == "RSA"
                        ? new KeyFileInfo(KeyKind.RsaPrivatePkcs8, encoding, $"an RSA private key (PKCS#8, {encoding})", der)
                        : Unusable($"{Article(algorithm)} {algorithm} private key (PKCS#8, {encoding})");
                }
                if (second.HasSameClassAndValue(Asn1Tag.PrimitiveOctetString))
                {
                    return Unusable($"an EC private key (SEC 1, {encoding})");
                }
                int integers = 1;
                while (seq.HasData && seq.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
                {
                    seq.ReadEncodedValue();
                    integers++;
                }
                return integers switch
                {
                    2 => new KeyFileInfo(KeyKind.RsaPublicPkcs1, encoding, $"an RSA public key (PKCS#1, {encoding})", der),
                    >= 9 => new KeyFileInfo(KeyKind.RsaPrivatePkcs1, encoding, $"an RSA private key (PKCS#1, {encoding})", der),
                    6 => Unusable($"a DSA private key ({encoding})"),
                    _ => Unusable($"{encoding} data that is not a key structure"),
                };
            }
            if (first.HasSameClassAndValue(Asn1Tag.Sequence))
            {
                var inner = seq.ReadSequence();
                if (inner.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
                {
                    var oid = inner.ReadObjectIdentifier();
                    var next = seq.PeekTag();
                    if (next.HasSameClassAndValue(Asn1Tag.PrimitiveBitString))
                    {
                        var algorithm = AlgorithmName(oid);
                        return algorithm == "RSA"
                            ? new KeyFileInfo(KeyKind.RsaPublicSpki, encoding, $"an RSA public key (SubjectPublicKeyInfo, {encoding})", der)
                            : Unusable($"{Article(algorithm)} {algorithm} public key (SubjectPublicKeyInfo, {encoding})");
                    }
                    if (next.HasSameClassAndValue(Asn1Tag.PrimitiveOctetString))
                    {
                        return new KeyFileInfo(KeyKind.EncryptedPkcs8, encoding, $"an encrypted PKCS#8 private key ({encoding})", der);
                    }
                }
                return Unusable($"an X.509 certificate or other signed structure ({encoding}), not a key");
            }
            return Unusable($"{encoding} data that is not a key structure");
        }
        catch (AsnContentException)
        {
            return Unusable($"damaged or truncated {encoding} data");
        }
    }

    private static string AlgorithmName(string oid) =>
        Algorithms.TryGetValue(oid, out var name) ? name : $"unknown-algorithm (OID {oid})";

    private static string Article(string algorithm) => algorithm.StartsWith('D') || algorithm.StartsWith('u') ? "a" : "an";

    private static bool LooksLikeText(ReadOnlySpan<byte> content)
    {
        foreach (var b in content[..Math.Min(content.Length, 512)])
        {
            if (b < 0x09 || (b > 0x0d && b < 0x20) || b > 0x7e)
            {
                return false;
            }
        }
        return true;
    }

    private static KeyFileInfo Unusable(string description) => new(KeyKind.Unusable, "", description, null);
}
