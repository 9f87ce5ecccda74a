using System.Diagnostics;

namespace VoiceVault.Server.Tests;

/// <summary>Programs the tests run as a user would: the project's scripts, the server's operator commands, system tools.</summary>
internal static class TestProcess
{
    /// <summary>The checkout the tests were built from (the folder holding scripts/).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Script(string name) => Path.Combine(RepositoryRoot, "scripts", name);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "scripts", "test.sh")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("scripts/test.sh not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a program to its end: its exit code and everything it wrote (standard output, then errors).</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var (exit, stdout, stderr) = await RunSeparatelyAsync(file, args, environment);
        return (exit, stdout + stderr);
    }

    /// <summary>Runs a program to its end: its exit code, its standard output and its errors, apart.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunSeparatelyAsync(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        using var process = Start(file, args, environment);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>Starts a program with its output and errors redirected (the caller reads or drains them).</summary>
    public static Process Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }
        return Process.Start(start)!;
    }

    /// <summary>The customer toolkit as built beside these tests (the solution builds it; run with dotnet).</summary>
    public static string Voicevault { get; } = Path.Combine(RepositoryRoot, "src", "VoiceVault.Cli", "bin",
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release", "net10.0", "voicevault.dll");

    /// <summary>The toolkit's environment for an account: Twilio's variables, and no API key inherited from the machine.</summary>
    public static Dictionary<string, string?> TwilioEnvironment(string accountSid, string authToken) => new()
    {
        ["TWILIO_ACCOUNT_SID"] = accountSid,
        ["TWILIO_AUTH_TOKEN"] = authToken,
        ["TWILIO_API_KEY"] = null,
    };

    /// <summary>`voicevault ARGS` run to its end with <paramref name="environment"/>.</summary>
    public static Task<(int Exit, string Stdout, string Stderr)> ToolkitAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        RunSeparatelyAsync("dotnet", [Voicevault, .. args], environment);

    /// <summary>An operator command of the server (migrate, copy-to-postgres, copy-media-to-s3).</summary>
    public static Task<(int Exit, string Output)> ServerCommandAsync(params string[] args) =>
        RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "VoiceVault.Server.dll"), .. args]);
}
