using System.CommandLine;
using System.Diagnostics;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

internal static class DecryptCommand
{
    public static Command Create()
    {
        var input = new Argument<string?>("INPUT") { Description = "The encrypted recording ('-' for stdin).", Arity = ArgumentArity.ZeroOrOne };
        var key = Options.PrivateKey();
        var keyring = new Option<DirectoryInfo?>("--keyring") { Description = "A keyring directory: private keys filed by public-key SID." };
        var details = new Option<FileInfo?>("--details") { Description = "The encryption details: a Recording resource JSON, its encryption_details, or a callback's EncryptionDetails." };
        var cek = new Option<string?>("--cek") { Description = "The wrapped CEK (base64), instead of --details." };
        var iv = new Option<string?>("--iv") { Description = "The IV (base64), with --cek." };
        var output = new Option<string?>("--output", "-o") { Description = "The decrypted WAV; '-' writes to stdout, and only after the whole file verified." };
        var batch = new Option<DirectoryInfo?>("--batch") { Description = "Decrypt every recording of this directory (each X.json with its media X, X.wav or X.enc)." };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "With --batch: the directory for decrypted WAVs." };
        var jobs = new Option<int>("--jobs", "-j") { Description = "With --batch: recordings decrypted at once.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var force = new Option<bool>("--force") { Description = "With --batch: decrypt again recordings whose output already exists." };
        var sync = new Option<bool>("--sync") { Description = "fsync each output before it is renamed into place." };
        var passphraseFile = Options.PassphraseFile();
        var quiet = Options.Quiet();
        var json = Options.Json();
        var command = new Command("decrypt", "Decrypt and authenticate recordings; nothing is published unless its tag verifies.")
        {
            input, key, keyring, details, cek, iv, output, batch, outDir, jobs, force, sync, passphraseFile, quiet, json,
        };
        command.SetAction(parse => Program.Guard(() =>
        {
            using var keys = KeyChoice.From(parse.GetValue(key), parse.GetValue(keyring), parse.GetValue(passphraseFile));
            bool isQuiet = parse.GetValue(quiet);
            bool asJson = parse.GetValue(json);
            var batchDir = parse.GetValue(batch);
            if (batchDir is not null)
            {
                if (parse.GetValue(input) is not null || parse.GetValue(output) is not null || parse.GetValue(details) is not null || parse.GetValue(cek) is not null)
                {
                    throw new CliException("--batch takes no INPUT, -o, --details or --cek: each recording's details come from its JSON file");
                }
                var target = parse.GetValue(outDir) ?? throw new CliException("--batch needs --out DIR for the decrypted recordings");
                int workers = parse.GetValue(jobs);
                if (workers < 1)
                {
                    throw new CliException($"--jobs {workers}: give 1 or more");
                }
                return BatchDecrypt.Run(batchDir, target, keys, workers, parse.GetValue(force), parse.GetValue(sync), isQuiet, asJson);
            }
            var source = parse.GetValue(input) ?? throw new CliException("give the encrypted recording (INPUT), or --batch DIR");
            var destination = parse.GetValue(output) ?? throw new CliException("give -o OUTPUT (or -o - for stdout)");
            var recordingDetails = ReadDetails(parse.GetValue(details), parse.GetValue(cek), parse.GetValue(iv));
            var (contentKey, keySid, note) = keys.Unwrap(recordingDetails);
            using (contentKey)
            {
                if (note is not null && !isQuiet)
                {
                    Console.Error.WriteLine($"note: {note}");
                }
                var clock = Stopwatch.StartNew();
                long length = destination == "-"
                    ? ToStdout(source, contentKey, recordingDetails.Iv, isQuiet)
                    : DecryptFile(source, destination, contentKey, recordingDetails.Iv, parse.GetValue(sync), isQuiet || asJson);
                if (asJson)
                {
                    var result = new Dictionary<string, object?>
                    {
                        ["input"] = source,
                        ["output"] = destination,
                        ["status"] = "ok",
                        ["plaintext_bytes"] = length,
                        ["public_key_sid"] = keySid,
                        ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
                    };
                    (destination == "-" ? Console.Error : Console.Out).WriteLine(CliJson.Serialize(result));
                }
                else if (!isQuiet && destination != "-")
                {
                    Console.Error.WriteLine($"decrypted {source} to {destination} ({Units.Bytes(length)}, tag verified)");
                }
            }
            return 0;
        }));
        return command;
    }

    public static EncryptionDetails ReadDetails(FileInfo? file, string? cek, string? iv)
    {
        if (file is not null)
        {
            if (cek is not null || iv is not null)
            {
                throw new CliException("give either --details FILE or --cek and --iv, not both");
            }
            if (!file.Exists)
            {
                throw new CliException($"details file '{file.FullName}' does not exist", "check the path");
            }
            return EncryptionDetails.Parse(File.ReadAllText(file.FullName));
        }
        if (cek is null || iv is null)
        {
            throw new CliException("the details are missing: give --details FILE, or both --cek and --iv");
        }
        return new EncryptionDetails(null, Base64(cek, "--cek"), Base64(iv, "--iv"));
    }

    private static byte[] Base64(string value, string option)
    {
        try
        {
            return Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            throw new CliException($"{option} is not base64", "copy the value exactly as the API gave it (standard base64 with padding)");
        }
    }

    /// <summary>Decrypts to a temporary file beside the target, renamed into place only once the tag verifies.</summary>
    internal static long DecryptFile(string source, string destination, ContentKey key, byte[] iv, bool sync, bool quiet)
    {
        if (source != "-" && Path.GetFullPath(source) == Path.GetFullPath(destination))
        {
            throw new CliException("the output is the input file; choose another output path");
        }
        using var encrypted = source == "-" ? Console.OpenStandardInput() : EncryptCommand.OpenInput(source);
        var progress = encrypted.CanSeek ? ProgressDisplay.For("decrypt", encrypted.Length, quiet, 64L << 20) : null;
        using var output = AtomicOutput.Create(destination);
        long length = RecordingDecryptor.Decrypt(encrypted, output.Stream, key, iv, progress, Program.Cancellation);
        progress?.Finish();
        output.Commit(sync);
        return length;
    }

    /// <summary>
    /// Writes to stdout only what has verified: a first pass checks the tag without releasing
    /// anything, the second decrypts (and checks again). Stdin is first spooled — as ciphertext —
    /// to a private temporary file, since it cannot be read twice.
    /// </summary>
    private static long ToStdout(string source, ContentKey key, byte[] iv, bool quiet)
    {
        string? spool = null;
        try
        {
            if (source == "-")
            {
                spool = Path.Combine(Path.GetTempPath(), $"voicevault-{Guid.NewGuid():N}.enc");
                using var spooled = new FileStream(spool, AtomicOutput.NewPrivateFile());
                using var stdin = Console.OpenStandardInput();
                stdin.CopyTo(spooled, 1 << 20);
            }
            using var encrypted = EncryptCommand.OpenInput(spool ?? source);
            var progress = ProgressDisplay.For("verify", encrypted.Length, quiet, 64L << 20);
            RecordingDecryptor.Verify(encrypted, key, iv, progress, Program.Cancellation);
            progress?.Finish();
            encrypted.Position = 0;
            using var stdout = Console.OpenStandardOutput();
            try
            {
                return RecordingDecryptor.Decrypt(encrypted, stdout, key, iv, null, Program.Cancellation);
            }
            catch (AuthenticationFailedException)
            {
                throw new CliException("the input changed between verification and output; what was written to stdout cannot be trusted", "do not modify the file while it is being decrypted");
            }
        }
        finally
        {
            if (spool is not null)
            {
                File.Delete(spool);
            }
        }
    }
}
