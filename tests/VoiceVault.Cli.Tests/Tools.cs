using System.Diagnostics;
using System.Text;

namespace VoiceVault.Cli.Tests;

/// <summary>The outcome of one process run.</summary>
public sealed record Run(int ExitCode, byte[] Stdout, string Stderr)
{
    public string Text => Encoding.UTF8.GetString(Stdout);

    public Run Ok()
    {
        Assert.True(ExitCode == 0, $"exit code {ExitCode}; stderr:\n{Stderr}");
        return this;
    }

    public Run Failed(string says)
    {
        Assert.True(ExitCode != 0, "expected a failure, the command succeeded");
        Assert.Contains("error: ", Stderr, StringComparison.Ordinal);
        Assert.Contains(says, Stderr, StringComparison.Ordinal);
        return this;
    }
}

/// <summary>Runs the real programs: the voicevault CLI as a process, openssl, python3.</summary>
public static class Tools
{
    public static string Python => Environment.GetEnvironmentVariable("VOICEVAULT_PYTHON") ?? "python3";

    public static string Interop(string script) => Path.Combine(AppContext.BaseDirectory, "interop", script);

    public static Run Voicevault(string workDir, params string[] args) => Voicevault(workDir, null, null, args);

    public static Run Voicevault(string workDir, byte[]? stdin, IDictionary<string, string>? env, params string[] args) =>
        Exec("dotnet", [Path.Combine(AppContext.BaseDirectory, "voicevault.dll"), .. args], workDir, stdin, env);

    public static Run Openssl(string workDir, params string[] args) => Exec("openssl", args, workDir);

    public static Run Py(string workDir, string script, params string[] args) => Exec(Python, [Interop(script), .. args], workDir);

    public static Run Exec(string file, string[] args, string workDir, byte[]? stdin = null, IDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("VOICEVAULT_PASSPHRASE");
        foreach (var (name, value) in env ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
        }
        process.StandardInput.Close();
        copy.Wait();
        process.WaitForExit();
        return new Run(process.ExitCode, stdout.ToArray(), stderr.Result);
    }
}

/// <summary>A scratch directory per test, removed afterwards.</summary>
public abstract class CliTest : IDisposable
{
    protected CliTest()
    {
        Dir = Directory.CreateTempSubdirectory("vv-cli-").FullName;
    }

    protected string Dir { get; }

    protected string P(string name) => Path.Combine(Dir, name);

    protected Run Vv(params string[] args) => Tools.Voicevault(Dir, args);

    /// <summary>A small PCM WAV (8 kHz, 16-bit mono) with a recognisable body.</summary>
    protected string Wav(string name, int dataBytes, int seed = 1)
    {
        var data = new byte[dataBytes];
        new Random(seed).NextBytes(data);
        File.WriteAllBytes(P(name), VoiceVault.Tests.Shared.TestWav.Build(data));
        return P(name);
    }

    /// <summary>Files in the scratch directory, for "nothing else was left behind" checks.</summary>
    protected string[] Listing() => Directory.GetFiles(Dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
