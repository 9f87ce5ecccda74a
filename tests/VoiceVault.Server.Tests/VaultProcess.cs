using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace VoiceVault.Server.Tests;

/// <summary>The vault as its own process, as operators run it: for SIGTERM and kill -9.</summary>
internal sealed partial class VaultProcess : IDisposable
{
    private readonly Process _process;

    private VaultProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>A data folder and main-account credentials for vault processes; the folder is deleted at the end.</summary>
    public sealed class Instance : IDisposable
    {
        public string DataDir { get; } = Directory.CreateTempSubdirectory("vv-proc-").FullName;
        public string Sid { get; } = "AC" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        public string Token { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

        public Task<VaultProcess> StartAsync(params string[] extraArgs) => VaultProcess.StartAsync(DataDir, Sid, Token, extraArgs);

        public void Dispose()
        {
            TestDatabase.Drop(DataDir);
            TestMedia.DropAsync(DataDir).GetAwaiter().GetResult();
            Directory.Delete(DataDir, recursive: true);
        }
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static async Task<VaultProcess> StartAsync(string dataDir, string sid, string token, params string[] extraArgs)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "VoiceVault.Server.dll"), "--urls", "http://127.0.0.1:0",
            "--VoiceVault:DataDir", dataDir, "--VoiceVault:Bootstrap:AccountSid", sid, "--VoiceVault:Bootstrap:AuthToken", token, .. TestDatabase.ArgsFor(dataDir), .. TestMedia.ArgsFor(dataDir),
            "--VoiceVault:Webhooks:AllowedNetworks", "127.0.0.0/8", .. extraArgs])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        var process = Process.Start(start)!;
        string? address = null;
        while (address is null && await process.StandardOutput.ReadLineAsync() is { } line)
        {
            var match = Listening().Match(line);
            address = match.Success ? match.Groups[1].Value : null;
        }
        if (address is null)
        {
            throw new InvalidOperationException("the vault did not start: " + await process.StandardError.ReadToEndAsync());
        }
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return new VaultProcess(process, new Uri(address));
    }

    public HttpClient Http(string? user = null, string? password = null) => TestHttp.Client(BaseUri, user, password);

    public void Signal(string signal) => Process.Start("kill", [$"-{signal}", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex Listening();
}
