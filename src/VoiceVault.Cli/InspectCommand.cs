using System.Buffers.Binary;
using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

/// <summary>Says what a details JSON, key file or media file holds, and whether a given private key fits.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("FILE") { Description = "Details JSON, key files or media files.", Arity = ArgumentArity.OneOrMore };
        var key = Options.PrivateKey("A private key to check against each details file and key file");
        var passphraseFile = Options.PassphraseFile();
        var json = Options.Json();
        var command = new Command("inspect", "Show what a details JSON or key file holds, its key fingerprint, and whether --key matches.") { files, key, passphraseFile, json };
        command.SetAction(parse => Program.Guard(() =>
        {
            var passphrase = Passphrase.Source(parse.GetValue(passphraseFile));
            var keyArgument = parse.GetValue(key);
            using var privateKey = keyArgument is null ? null : KeyChoice.Load(keyArgument, passphrase);
            var reports = new List<Dictionary<string, object?>>();
            bool allMatch = true;
            foreach (var file in parse.GetValue(files)!)
            {
                var report = Inspect(file, privateKey, passphrase);
                allMatch &= report.GetValueOrDefault("key_matches") is not false;
                reports.Add(report);
            }
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(CliJson.Serialize(reports));
            }
            else
            {
                foreach (var report in reports)
                {
                    Console.Out.WriteLine($"{report["file"]}:");
                    foreach (var (name, value) in report.Where(p => p.Key != "file" && p.Value is not null))
                    {
                        Console.Out.WriteLine($"  {name.Replace('_', ' ')}: {(value is bool b ? (b ? "yes" : "no") : value)}");
                    }
                }
            }
            return allMatch ? 0 : 1;
        }));
        return command;
    }

    private static Dictionary<string, object?> Inspect(FileInfo file, RSA? privateKey, Func<char[]?> passphrase)
    {
        var report = new Dictionary<string, object?> { ["file"] = file.FullName };
        if (!file.Exists)
        {
            throw new CliException($"file '{file.FullName}' does not exist", "check the path");
        }
        // Keys and details are small; of anything large (media), the first bytes tell enough.
        long length = file.Length;
        var content = ReadHead(file.FullName, MaxInspected);
        var keyInfo = KeyFile.Describe(content);
        if (keyInfo.Kind != KeyKind.Unusable || LooksLikeKeyFile(content))
        {
            report["what"] = keyInfo.Description;
            if (keyInfo.Kind == KeyKind.Unusable)
            {
                report["usable"] = false;
                return report;
            }
            try
            {
                using var rsa = keyInfo.IsPrivate ? KeyFile.LoadPrivateKey(content, passphrase) : KeyFile.LoadPublicKey(content);
                report["bits"] = rsa.KeySize;
                report["fingerprint"] = KeyFile.Fingerprint(rsa);
                report["local_sid"] = KeyFile.LocalSid(rsa);
                if (privateKey is not null)
                {
                    report["key_matches"] = KeyFile.Fingerprint(privateKey) == KeyFile.Fingerprint(rsa);
                }
            }
            catch (KeyFormatException e)
            {
                report["usable"] = false;
                report["problem"] = e.Message;
            }
            return report;
        }
        var text = length <= MaxInspected ? TryText(content) : null;
        if (text is not null && text.TrimStart().StartsWith('{') || text?.Contains("EncryptionDetails=", StringComparison.Ordinal) == true)
        {
            var details = EncryptionDetails.Parse(text!);
            report["what"] = "rsa-aes encryption details";
            report["public_key_sid"] = details.PublicKeySid ?? "(not given)";
            report["wrapped_cek"] = $"{details.EncryptedCek.Length} bytes (for a {details.EncryptedCek.Length * 8}-bit RSA key)";
            report["iv"] = Convert.ToHexStringLower(details.Iv);
            if (privateKey is not null)
            {
                try
                {
                    KeyWrap.Unwrap(privateKey, details.EncryptedCek).Dispose();
                    report["key_matches"] = true;
                }
                catch (KeyMismatchException)
                {
                    report["key_matches"] = false;
                }
            }
            return report;
        }
        report["size"] = length;
        if (content.AsSpan().StartsWith("RIFF"u8) && content.Length >= 12 && content.AsSpan(8, 4).SequenceEqual("WAVE"u8))
        {
            report["what"] = "a plaintext RIFF/WAVE file (not encrypted)";
            DescribeWav(content, report);
        }
        else
        {
            report["what"] = length >= RecordingFormat.TagSize
                ? $"binary data; if it is an encrypted recording, its plaintext is {length - RecordingFormat.TagSize} bytes and the last {RecordingFormat.TagSize} bytes are the tag"
                : "binary data too short to be an encrypted recording";
        }
        return report;
    }

    private const int MaxInspected = 1 << 20;

    private static byte[] ReadHead(string path, int limit)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[(int)Math.Min(limit, stream.Length)];
        stream.ReadExactly(buffer);
        return buffer;
    }

    private static void DescribeWav(byte[] wav, Dictionary<string, object?> report)
    {
        int offset = 12;
        while (offset + 8 <= wav.Length)
        {
            var id = Encoding.ASCII.GetString(wav, offset, 4);
            int size = BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(offset + 4));
            if (id == "fmt " && offset + 24 <= wav.Length)
            {
                report["channels"] = BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(offset + 10));
                report["sample_rate"] = BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(offset + 12));
                report["bits_per_sample"] = BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(offset + 22));
                int byteRate = BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(offset + 16));
                report["byte_rate"] = byteRate;
            }
            if (id == "data" && report.GetValueOrDefault("byte_rate") is int rate && rate > 0)
            {
                report["duration_seconds"] = Math.Round((uint)size / (double)rate, 3);
                break;
            }
            if (size < 0)
            {
                break;
            }
            offset += 8 + size + (size & 1);
        }
    }

    private static bool LooksLikeKeyFile(byte[] content) =>
        content.AsSpan().IndexOf("-----BEGIN "u8) >= 0 || content.AsSpan().StartsWith("ssh-"u8);

    private static string? TryText(byte[] content)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
