using System.CommandLine;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

internal static class Program
{
    private static readonly CancellationTokenSource Interrupt = new();

    public static CancellationToken Cancellation => Interrupt.Token;

    public static int Main(string[] args)
    {
        // Ctrl-C and SIGTERM cancel the work so that temporary files are removed, not left behind.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        var root = new RootCommand("voicevault — keys, encryption and decryption for Twilio-format (rsa-aes) encrypted call recordings.")
        {
            KeygenCommand.Keygen(),
            KeygenCommand.Pubkey(),
            EncryptCommand.Create(),
            DecryptCommand.Create(),
            InspectCommand.Create(),
            KeyringCommand.Create(),
            FetchCommand.Create(),
            RewrapCommand.Create(),
            ReceiveCommand.Create(),
            AuditCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }

    // The first signal cancels the work, so that it stops at the next chunk and removes its
    // temporary files; work that does not stop within 3 s, or a second signal, ends the process.
    private static void Cancel(PosixSignalContext context)
    {
        if (Interrupt.IsCancellationRequested)
        {
            return;
        }
        context.Cancel = true;
        Interrupt.Cancel();
        _ = Task.Delay(TimeSpan.FromSeconds(3)).ContinueWith(_ => Environment.Exit(InterruptedExitCode), TaskScheduler.Default);
    }

    public const int InterruptedExitCode = 130;

    /// <summary>Runs a command body; every failure becomes <c>error:</c>/<c>hint:</c> lines and exit code 1.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            var (message, hint) = Explain(e);
            int code = e is OperationCanceledException ? InterruptedExitCode : 1;
            Console.Error.WriteLine($"error: {message}");
            if (hint is not null)
            {
                Console.Error.WriteLine($"hint: {hint}");
            }
            return code;
        }
    }

    public static (string Message, string? Hint) Explain(Exception e) => e switch
    {
        CliException c => (c.Message, c.Hint),
        RecordingCryptoException r => (r.Message, r.Hint),
        OperationCanceledException => ("interrupted; no output was published", null),
        FileNotFoundException f => ($"file not found: {f.FileName ?? f.Message}", "check the path"),
        DirectoryNotFoundException d => (d.Message, "check the path"),
        UnauthorizedAccessException u => (u.Message, "check the file's permissions"),
        IOException io => (io.Message, "check the paths and the free disk space"),
        CryptographicException c => ($"cryptographic failure: {c.Message}", null),
        PlatformNotSupportedException or ArgumentException => (e.Message, null),
        _ => ($"unexpected {e.GetType().Name}: {e.Message}", "this is a bug in voicevault; please report it with the command you ran"),
    };

    public static byte[] ReadInput(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"{what} '{path}' does not exist", "check the path");
        }
        return File.ReadAllBytes(path);
    }
}
