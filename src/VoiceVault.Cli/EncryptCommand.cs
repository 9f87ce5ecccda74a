using System.CommandLine;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

/// <summary>The platform side of the format: what the vault (or Twilio) does to every recording.</summary>
internal static class EncryptCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("INPUT") { Description = "The WAV file to encrypt ('-' for stdin)." };
        var publicKey = new Option<FileInfo>("--public-key") { Description = "The recipient's RSA public key (2048 bits or more).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The encrypted file ('-' for stdout).", Required = true };
        var detailsOut = new Option<FileInfo?>("--details-out") { Description = "Where to write the encryption details JSON (default: OUTPUT.json)." };
        var keySid = new Option<string?>("--key-sid") { Description = "The CR… SID of the public key credential (default: a local SID derived from the key's fingerprint)." };
        var quiet = Options.Quiet();
        var json = Options.Json();
        var sync = new Option<bool>("--sync") { Description = "fsync the output before it is renamed into place." };
        var command = new Command("encrypt", "Encrypt a recording to a public key, as Twilio does (rsa-aes), and write its encryption details.")
        {
            input, publicKey, output, detailsOut, keySid, quiet, json, sync,
        };
        command.SetAction(parse => Program.Guard(() =>
        {
            var source = parse.GetValue(input)!;
            var target = parse.GetValue(output)!;
            using var rsa = KeyFile.LoadPublicKey(Program.ReadInput(parse.GetValue(publicKey)!.FullName, "public key file"));
            var sid = parse.GetValue(keySid) ?? KeyFile.LocalSid(rsa);
            var iv = RecordingFormat.NewIv();
            using var cek = ContentKey.Generate();
            var details = new EncryptionDetails(sid, KeyWrap.Wrap(rsa, cek), iv);
            var detailsPath = parse.GetValue(detailsOut)?.FullName
                ?? (target == "-" ? throw new CliException("with -o - the details need a place: give --details-out FILE") : target + ".json");

            using var plaintext = source == "-" ? Console.OpenStandardInput() : OpenInput(source);
            if (plaintext.CanSeek && !LooksLikeWav(plaintext) && !parse.GetValue(quiet))
            {
                Console.Error.WriteLine($"warning: '{source}' does not start with a RIFF/WAVE header; encrypting it anyway");
            }
            long total = plaintext.CanSeek ? plaintext.Length : 0;
            var progress = ProgressDisplay.For("encrypt", total, parse.GetValue(quiet) || parse.GetValue(json), 64L << 20);
            long length;
            if (target == "-")
            {
                using var stdout = Console.OpenStandardOutput();
                length = RecordingEncryptor.Encrypt(plaintext, stdout, cek, iv, progress, Program.Cancellation);
            }
            else
            {
                using var destination = AtomicOutput.Create(target);
                length = RecordingEncryptor.Encrypt(plaintext, destination.Stream, cek, iv, progress, Program.Cancellation);
                destination.Commit(parse.GetValue(sync));
            }
            progress?.Finish();
            File.WriteAllText(detailsPath, details.ToRestJson() + "\n");
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(CliJson.Serialize(new Dictionary<string, object?>
                {
                    ["input"] = source,
                    ["output"] = target,
                    ["details"] = detailsPath,
                    ["plaintext_bytes"] = length,
                    ["encrypted_bytes"] = length + RecordingFormat.TagSize,
                    ["public_key_sid"] = sid,
                    ["fingerprint"] = KeyFile.Fingerprint(rsa),
                }));
            }
            else if (!parse.GetValue(quiet))
            {
                Console.Error.WriteLine($"encrypted {source} ({Units.Bytes(length)}) to {target}; details in {detailsPath}");
            }
            return 0;
        }));
        return command;
    }

    internal static FileStream OpenInput(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"input '{path}' does not exist", "check the path");
        }
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
    }

    private static bool LooksLikeWav(Stream stream)
    {
        Span<byte> header = stackalloc byte[12];
        long start = stream.Position;
        int n = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        stream.Position = start;
        return n == 12 && header[..4].SequenceEqual("RIFF"u8) && header[8..12].SequenceEqual("WAVE"u8);
    }
}
