using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

internal static class KeygenCommand
{
    private static readonly int[] AllowedBits = [2048, 3072, 4096];

    public static Command Keygen()
    {
        var output = new Option<FileInfo?>("--out") { Description = "Where to write the private key (created with mode 0600; never overwritten)." };
        var pkcs11 = new Option<string?>("--pkcs11") { Description = "Make the key inside a PKCS#11 token instead, not extractable: pkcs11:token=NAME;object=LABEL (module from VOICEVAULT_PKCS11_MODULE, PIN from VOICEVAULT_PKCS11_PIN)." };
        var publicOut = new Option<FileInfo?>("--public-out") { Description = "Where to write the public key PEM (default: print it on stdout)." };
        var bits = new Option<int>("--bits") { Description = "RSA modulus size: 2048, 3072 or 4096.", DefaultValueFactory = _ => 3072 };
        var pkcs1 = new Option<bool>("--pkcs1") { Description = "Write the private key as PKCS#1 (BEGIN RSA PRIVATE KEY) instead of PKCS#8." };
        var encrypt = new Option<bool>("--encrypt") { Description = "Protect the private key with a passphrase (encrypted PKCS#8, AES-256-CBC, PBKDF2-SHA256)." };
        var passphraseFile = Options.PassphraseFile();
        var json = Options.Json();
        var command = new Command("keygen", "Make an RSA key pair for recording encryption.") { output, pkcs11, publicOut, bits, pkcs1, encrypt, passphraseFile, json };
        command.SetAction(parse => Program.Guard(() =>
        {
            int size = parse.GetValue(bits);
            if (!AllowedBits.Contains(size))
            {
                throw new CliException($"--bits {size} is not offered; use 2048, 3072 or 4096", "3072 is the default and a good choice");
            }
            bool usePkcs1 = parse.GetValue(pkcs1);
            bool protect = parse.GetValue(encrypt);
            if (usePkcs1 && protect)
            {
                throw new CliException("--pkcs1 and --encrypt do not combine: a protected key is always encrypted PKCS#8");
            }
            var tokenUri = parse.GetValue(pkcs11);
            var target = parse.GetValue(output);
            if ((target is null) == (tokenUri is null))
            {
                throw new CliException("give exactly one of --out PRIVATE.pem (a key file) or --pkcs11 URI (a key in a token)");
            }
            if (tokenUri is not null)
            {
                if (usePkcs1 || protect)
                {
                    throw new CliException("--pkcs1 and --encrypt describe a key file; a key made with --pkcs11 stays in its token");
                }
                using var key = Pkcs11Key.Generate(tokenUri, size);
                Report(key, key.Uri.Redacted, parse.GetValue(publicOut), size, "pkcs11", parse.GetValue(json),
                    $"made a {size}-bit RSA key in token '{key.TokenLabel}' (extractable: {(key.Extractable ? "yes" : "no")}, sensitive: {(key.Sensitive ? "yes" : "no")})");
                return 0;
            }
            if (target!.Exists)
            {
                throw new CliException($"'{target.FullName}' already exists; refusing to overwrite a private key", "choose another --out path, or move the old key away first");
            }
            using var rsa = RSA.Create(size);
            string privatePem;
            if (protect)
            {
                var secret = Passphrase.Source(parse.GetValue(passphraseFile))() ?? throw new CliException(
                    "--encrypt needs a passphrase and none was given", "set VOICEVAULT_PASSPHRASE, use --passphrase-file, or run on a terminal");
                try
                {
                    privatePem = rsa.ExportEncryptedPkcs8PrivateKeyPem(secret, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000)) + "\n";
                }
                finally
                {
                    Array.Clear(secret);
                }
            }
            else
            {
                privatePem = KeyFile.ExportPrivateKeyPem(rsa, usePkcs1);
            }
            WriteNewPrivateFile(target.FullName, privatePem);
            Report(rsa, target.FullName, parse.GetValue(publicOut), size, protect ? "encrypted-pkcs8" : usePkcs1 ? "pkcs1" : "pkcs8", parse.GetValue(json),
                $"wrote {size}-bit private key to {target.FullName} (mode 0600)");
            return 0;
        }));
        return command;
    }

    private static void Report(RSA key, string privateKey, FileInfo? publicTarget, int size, string format, bool json, string made)
    {
        var publicPem = KeyFile.ExportPublicKeyPem(key);
        if (publicTarget is not null)
        {
            File.WriteAllText(publicTarget.FullName, publicPem);
        }
        if (json)
        {
            Console.Out.WriteLine(CliJson.Serialize(new Dictionary<string, object?>
            {
                ["private_key"] = privateKey,
                ["public_key"] = publicTarget?.FullName,
                ["bits"] = size,
                ["format"] = format,
                ["fingerprint"] = KeyFile.Fingerprint(key),
                ["local_sid"] = KeyFile.LocalSid(key),
                ["public_key_pem"] = publicPem,
            }));
            return;
        }
        if (publicTarget is null)
        {
            Console.Out.Write(publicPem);
        }
        Console.Error.WriteLine($"{made}; fingerprint {KeyFile.Fingerprint(key)}");
        Console.Error.WriteLine(publicTarget is null
            ? "the public key above goes into POST /v1/Credentials/PublicKeys (PublicKey=...)"
            : $"wrote public key to {publicTarget.FullName}; it goes into POST /v1/Credentials/PublicKeys (PublicKey=...)");
    }

    public static Command Pubkey()
    {
        var key = new Argument<string>("PRIVATE") { Description = "The private key file, or a PKCS#11 URI." };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Where to write the public key PEM (default: stdout)." };
        var passphraseFile = Options.PassphraseFile();
        var command = new Command("pubkey", "Print the public key (SubjectPublicKeyInfo PEM) of a private key.") { key, output, passphraseFile };
        command.SetAction(parse => Program.Guard(() =>
        {
            using var rsa = KeyChoice.Load(parse.GetValue(key)!, Passphrase.Source(parse.GetValue(passphraseFile)));
            var pem = KeyFile.ExportPublicKeyPem(rsa);
            var target = parse.GetValue(output);
            if (target is null)
            {
                Console.Out.Write(pem);
            }
            else
            {
                File.WriteAllText(target.FullName, pem);
            }
            return 0;
        }));
        return command;
    }

    internal static void WriteNewPrivateFile(string path, string content)
    {
        using var stream = new FileStream(path, AtomicOutput.NewPrivateFile());
        stream.Write(Encoding.ASCII.GetBytes(content));
        stream.Flush(flushToDisk: true);
    }
}
