using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Crypto;

/// <summary>What a key file holds.</summary>
public enum KeyKind
{
    /// <summary>Not a key this format can use (the description says what it is).</summary>
    Unusable,
    /// <summary>An RSA private key, PKCS#1 (<c>BEGIN RSA PRIVATE KEY</c>).</summary>
    RsaPrivatePkcs1,
    /// <summary>An RSA private key, PKCS#8 (<c>BEGIN PRIVATE KEY</c>).</summary>
    RsaPrivatePkcs8,
    /// <summary>A passphrase-protected PKCS#8 private key (<c>BEGIN ENCRYPTED PRIVATE KEY</c>).</summary>
    EncryptedPkcs8,
    /// <summary>An RSA public key, SubjectPublicKeyInfo (<c>BEGIN PUBLIC KEY</c>).</summary>
    RsaPublicSpki,
    /// <summary>An RSA public key, PKCS#1 (<c>BEGIN RSA PUBLIC KEY</c>).</summary>
    RsaPublicPkcs1,
}

/// <summary>The outcome of looking at a key file without importing it.</summary>
/// <param name="Kind">What was found.</param>
/// <param name="Encoding">"PEM" or "DER".</param>
/// <param name="Description">Human words for what was found, e.g. "an EC private key (PKCS#8)".</param>
/// <param name="Der">The DER bytes of the key structure, when there is one.</param>
public sealed record KeyFileInfo(KeyKind Kind, string Encoding, string Description, byte[]? Der)
{
    /// <summary>Whether this is some kind of private key (usable or not).</summary>
    public bool IsPrivate => Kind is KeyKind.RsaPrivatePkcs1 or KeyKind.RsaPrivatePkcs8 or KeyKind.EncryptedPkcs8;
}

/// <summary>
/// Loads RSA keys in the encodings customers have: PKCS#1, PKCS#8 and encrypted PKCS#8 private
/// keys, SPKI and PKCS#1 public keys, each as PEM or DER. Anything else is refused with a message
/// that names what was found and what is needed.
/// </summary>
public static class KeyFile
{
    private const string Needed = "an RSA private key (PKCS#1, PKCS#8 or encrypted PKCS#8, PEM or DER)";
    private const string NeededPublic = "an RSA public key (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY, PEM or DER)";

    /// <summary>Identifies what <paramref name="content"/> holds, without importing it.</summary>
    public static KeyFileInfo Describe(ReadOnlySpan<byte> content) => KeyFileClassifier.Describe(content);

    /// <summary>
    /// Loads an RSA private key. <paramref name="passphrase"/> is asked only for an encrypted key;
    /// it returns null when no passphrase is available. The returned chars are zeroed after use.
    /// </summary>
    public static RSA LoadPrivateKey(ReadOnlySpan<byte> content, Func<char[]?>? passphrase = null)
    {
        var info = Describe(content);
        var der = info.Der;
        switch (info.Kind)
        {
            case KeyKind.RsaPrivatePkcs1:
                return Import(info, rsa => { rsa.ImportRSAPrivateKey(der, out int n); return n == der!.Length; });
            case KeyKind.RsaPrivatePkcs8:
                return Import(info, rsa => { rsa.ImportPkcs8PrivateKey(der, out int n); return n == der!.Length; });
            case KeyKind.EncryptedPkcs8:
                return ImportEncrypted(info, passphrase);
            case KeyKind.RsaPublicSpki or KeyKind.RsaPublicPkcs1:
                throw new KeyFormatException(
                    $"found {info.Description}, but decryption needs the private key: {Needed}",
                    "use the private key you generated with this public key (voicevault keygen wrote both)");
            default:
                throw new KeyFormatException($"found {info.Description}; needed {Needed}", HintFor(info));
        }
    }

    /// <summary>Loads an RSA public key of 2048 bits or more. A private key is refused, and said to be one.</summary>
    public static RSA LoadPublicKey(ReadOnlySpan<byte> content)
    {
        var info = Describe(content);
        var der = info.Der;
        switch (info.Kind)
        {
            case KeyKind.RsaPublicSpki:
                return Import(info, rsa => { rsa.ImportSubjectPublicKeyInfo(der, out int n); return n == der!.Length; });
            case KeyKind.RsaPublicPkcs1:
                return Import(info, rsa => { rsa.ImportRSAPublicKey(der, out int n); return n == der!.Length; });
            case KeyKind.RsaPrivatePkcs1 or KeyKind.RsaPrivatePkcs8 or KeyKind.EncryptedPkcs8:
                throw new KeyFormatException(
                    $"this is a PRIVATE key ({info.Description}), not a public key; never share or upload it",
                    "give the public key instead: voicevault pubkey PRIVATE.pem -o PUBLIC.pem");
            default:
                throw new KeyFormatException($"found {info.Description}; needed {NeededPublic}", HintFor(info));
        }
    }

    /// <summary>The SHA-256 fingerprint of the key's SubjectPublicKeyInfo, as <c>sha256:</c> + 64 hex digits.</summary>
    public static string Fingerprint(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>
    /// A stable public-key SID for a key that has none from a server: <c>CR</c> + the first 32 hex
    /// digits of its fingerprint.
    /// </summary>
    public static string LocalSid(RSA key) => "CR" + Fingerprint(key)["sha256:".Length..][..32];

    /// <summary>The public key as SubjectPublicKeyInfo PEM, ready for the PublicKeys credential API.</summary>
    public static string ExportPublicKeyPem(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportSubjectPublicKeyInfoPem() + "\n";
    }

    /// <summary>The private key as PKCS#8 PEM, or PKCS#1 PEM when <paramref name="pkcs1"/>.</summary>
    public static string ExportPrivateKeyPem(RSA key, bool pkcs1 = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        return (pkcs1 ? key.ExportRSAPrivateKeyPem() : key.ExportPkcs8PrivateKeyPem()) + "\n";
    }

    internal static void RequireMinimumSize(RSA key)
    {
        if (key.KeySize < RecordingFormat.MinimumRsaBits)
        {
            throw new KeyFormatException(
                $"this RSA key has {key.KeySize} bits; the rsa-aes format needs {RecordingFormat.MinimumRsaBits} bits or more",
                "generate a new key: voicevault keygen --out key.pem --bits 3072");
        }
    }

    private static RSA Import(KeyFileInfo info, Func<RSA, bool> import)
    {
        var rsa = RSA.Create();
        try
        {
            if (!import(rsa))
            {
                throw new KeyFormatException($"{info.Description} is followed by extra bytes; the file is damaged");
            }
            RequireMinimumSize(rsa);
            return rsa;
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new KeyFormatException($"{info.Description} could not be read: the file is truncated or damaged ({e.Message})", inner: e);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The most PBKDF2 (or PKCS#12 PBE) iterations an encrypted key may ask for: ten times what
    /// current tools write (OpenSSL 2,048 by default, .NET and <c>voicevault keygen</c> 600,000), and
    /// about 9 s of work here. A damaged or hostile file asking for two billion would take half an hour.
    /// </summary>
    public const long MaxKeyDerivationIterations = 10_000_000;

    private static RSA ImportEncrypted(KeyFileInfo info, Func<char[]?>? passphrase)
    {
        if (Iterations(info.Der!) is > MaxKeyDerivationIterations and var iterations)
        {
            throw new KeyFormatException(
                $"{info.Description} asks for {iterations:N0} key-derivation iterations, more than the {MaxKeyDerivationIterations:N0} this tool will run (the file is damaged, or made to waste time)",
                "re-encrypt the key with a usual count: openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600000 -in KEY.pem -out NEW.pem");
        }
        var secret = passphrase?.Invoke() ?? throw new KeyFormatException(
            $"found {info.Description}, and no passphrase was given",
            "set VOICEVAULT_PASSPHRASE, use --passphrase-file FILE, or run on a terminal to be asked");
        try
        {
            var rsa = RSA.Create();
            try
            {
                rsa.ImportEncryptedPkcs8PrivateKey(secret, info.Der, out _);
                RequireMinimumSize(rsa);
                return rsa;
            }
            catch (CryptographicException)
            {
                rsa.Dispose();
                throw new KeyFormatException(
                    DescribeEncryptedFailure(info, secret),
                    "check the passphrase (VOICEVAULT_PASSPHRASE, --passphrase-file, or the prompt)");
            }
        }
        finally
        {
            Array.Clear(secret);
        }
    }

    // The iteration count of an EncryptedPrivateKeyInfo's PBES2/PBKDF2 or PBES1/PKCS#12 parameters;
    // null when the structure is not one of those (the import then says what is wrong).
    private static long? Iterations(byte[] der)
    {
        try
        {
            var info = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            var algorithm = info.ReadSequence();
            var oid = algorithm.ReadObjectIdentifier();
            AsnReader parameters;
            if (oid == "1.2.840.113549.1.5.13")
            {
                // PBES2: { keyDerivationFunc { PBKDF2, { salt, iterationCount, … } }, encryptionScheme }
                var kdf = algorithm.ReadSequence().ReadSequence();
                if (kdf.ReadObjectIdentifier() != "1.2.840.113549.1.5.12")
                {
                    return null;
                }
                parameters = kdf.ReadSequence();
                parameters.ReadEncodedValue();
            }
            else if (oid.StartsWith("1.2.840.113549.1.5.", StringComparison.Ordinal) || oid.StartsWith("1.2.840.113549.1.12.1.", StringComparison.Ordinal))
            {
                // PBES1 and PKCS#12 PBE: { salt, iterationCount }
                parameters = algorithm.ReadSequence();
                parameters.ReadOctetString();
            }
            else
            {
                return null;
            }
            var count = parameters.ReadInteger();
            return count > long.MaxValue ? long.MaxValue : (long)count;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    // The passphrase may be right and the key simply not RSA: name the algorithm in that case.
    private static string DescribeEncryptedFailure(KeyFileInfo info, char[] secret)
    {
        try
        {
            using var ec = ECDsa.Create();
            ec.ImportEncryptedPkcs8PrivateKey(secret, info.Der, out _);
            return $"the passphrase opens {info.Description}, but it holds an EC key; needed {Needed}";
        }
        catch (CryptographicException)
        {
            return $"could not decrypt {info.Description}: wrong passphrase (or the file is damaged)";
        }
    }

    private static string? HintFor(KeyFileInfo info) => info.Description switch
    {
        var d when d.Contains("certificate", StringComparison.Ordinal) => "extract the public key with: openssl x509 -in cert.pem -pubkey -noout",
        var d when d.Contains("OpenSSH", StringComparison.Ordinal) => "convert an OpenSSH RSA key with: ssh-keygen -p -m PKCS8 -f KEY (private) or ssh-keygen -e -m PKCS8 -f KEY.pub (public)",
        var d when d.Contains("legacy", StringComparison.Ordinal) => "convert it to encrypted PKCS#8: openssl pkcs8 -topk8 -in OLD.pem -out NEW.pem",
        _ => "generate an RSA key with: voicevault keygen --out key.pem (or openssl genrsa -out key.pem 3072)",
    };
}
