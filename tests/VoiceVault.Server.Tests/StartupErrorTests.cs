using System.Net;
using System.Net.Sockets;

namespace VoiceVault.Server.Tests;

/// <summary>
/// A vault started with a wrong setting or without a dependency says what is wrong and what to do —
/// one error: line, one hint: line, no stack trace — and exits with 2, as an operator would see it:
/// the server's own process started as the scripts start it.
/// </summary>
public sealed class StartupErrorTests
{
    public static TheoryData<string, string[], string, string> Cases()
    {
        var closedPort = TestHttp.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var missingBucket = TestMedia.OptionsFor("missing-" + Guid.NewGuid().ToString("N"));
        missingBucket.CreateBucket = false;
        return new()
        {
            { "missing bucket", ["--VoiceVault:Media", "s3", .. TestMedia.S3Args(missingBucket)], $"error: The S3 bucket '{missingBucket.Bucket}' does not exist", "hint: create it, or start once with VoiceVault:S3:CreateBucket=true" },
            { "unreachable S3", ["--VoiceVault:Media", "s3", "--VoiceVault:S3:ServiceUrl", $"http://127.0.0.1:{closedPort}", "--VoiceVault:S3:Bucket", "b", "--VoiceVault:S3:ForcePathStyle", "true"],
                $"error: The S3 endpoint http://127.0.0.1:{closedPort} cannot be reached", "hint: check VoiceVault:S3:ServiceUrl" },
            { "master key not base64", ["--VoiceVault:MasterKey", "not-base64!"], "error: VoiceVault:MasterKey is not the base64 of 32 bytes", "hint: VoiceVault:MasterKey is the base64 of 32 random bytes" },
            { "master key too short", ["--VoiceVault:MasterKey", Convert.ToBase64String(new byte[16])], "error: VoiceVault:MasterKey is not the base64 of 32 bytes", "hint: VoiceVault:MasterKey is the base64 of 32 random bytes" },
            { "unreachable database", ["--VoiceVault:Database", "postgres", "--ConnectionStrings:VoiceVault", $"Host=127.0.0.1;Port={closedPort};Username=vault;Timeout=5"],
                "error: cannot use the PostgreSQL database: ", "hint: check ConnectionStrings:VoiceVault" },
            { "empty connection string", ["--VoiceVault:Database", "postgres"], "error: VoiceVault:Database is postgres but ConnectionStrings:VoiceVault is empty", "hint: set it to an Npgsql connection string" },
            { "unknown backend", ["--VoiceVault:Database", "mysql"], "error: VoiceVault:Database 'mysql' is not a backend", "hint: use sqlite (the default) or postgres" },
            { "TLS key missing", ["--VoiceVault:Tls:CertificatePath", "/nonexistent/vault.crt", "--VoiceVault:Tls:KeyPath", "/nonexistent/vault.key"],
                "error: VoiceVault:Tls:CertificatePath '/nonexistent/vault.crt' does not exist", "hint: give VoiceVault:Tls:CertificatePath" },
            { "bad network list", ["--VoiceVault:TrustedProxies", "10.0.0.0/8,10.1.0.0/33"], "error: VoiceVault:TrustedProxies: '10.1.0.0/33' is neither an address nor a network", "hint: write addresses or networks separated by commas" },
            { "bad callback network list", ["--VoiceVault:Webhooks:AllowedNetworks", "loopback"], "error: VoiceVault:Webhooks:AllowedNetworks: 'loopback' is neither", "hint: write addresses or networks" },
            { "setting of the wrong type", ["--VoiceVault:MaxUploadBytes", "lots"], "error: Failed to convert configuration value", "hint: correct the setting named above" },
            { "console session out of range", ["--VoiceVault:Console:IdleMinutes", "0"], "error: VoiceVault:Console:IdleMinutes is 0", "hint: give 1 to 1440 minutes" },
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_start_that_cannot_work_prints_an_error_and_a_hint_and_exits_2(string what, string[] args, string error, string hint)
    {
        var dataDir = Directory.CreateTempSubdirectory("vv-start-").FullName;
        try
        {
            var (exit, stdout, stderr) = await StartAsync(dataDir, args);
            AssertTwoLines(what, exit, stdout, stderr, error, hint);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_port_already_taken_is_said_so_with_the_way_out()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var dataDir = Directory.CreateTempSubdirectory("vv-start-").FullName;
        try
        {
            var (exit, stdout, stderr) = await StartAsync(dataDir, ["--urls", $"http://127.0.0.1:{port}"]);
            AssertTwoLines("port taken", exit, stdout, stderr, "error: Failed to bind to address", "hint: another process listens there");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task An_operator_command_with_a_wrong_setting_says_so_the_same_way()
    {
        var dataDir = Directory.CreateTempSubdirectory("vv-start-").FullName;
        try
        {
            var (exit, stdout, stderr) = await TestProcess.RunSeparatelyAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "VoiceVault.Server.dll"), "migrate", "--VoiceVault:DataDir", dataDir, "--VoiceVault:MaxUploadBytes", "lots"]);
            AssertTwoLines("migrate", exit, stdout, stderr, "error: Failed to convert configuration value 'lots' at 'VoiceVault:MaxUploadBytes'", "hint: correct the setting named above");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_master_key_file_that_is_not_32_bytes_is_refused_without_being_replaced()
    {
        var dataDir = Directory.CreateTempSubdirectory("vv-start-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dataDir, "master.key"), new byte[31]);
            var (exit, stdout, stderr) = await StartAsync(dataDir, []);
            AssertTwoLines("short master.key", exit, stdout, stderr, $"error: The master key file {Path.Combine(dataDir, "master.key")} holds 31 bytes, not 32", "hint: restore the file from your backup");
            Assert.Equal(31, new FileInfo(Path.Combine(dataDir, "master.key")).Length);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>The server's process to its end; one that is still running after a minute started after all, and is stopped.</summary>
    private static async Task<(int Exit, string Stdout, string Stderr)> StartAsync(string dataDir, string[] args)
    {
        using var process = TestProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "VoiceVault.Server.dll"), "--urls", "http://127.0.0.1:0", "--VoiceVault:DataDir", dataDir, .. args]);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, "(still running after a minute: it started)\n" + await output, await errors);
        }
        return (process.ExitCode, await output, await errors);
    }

    private static void AssertTwoLines(string what, int exit, string stdout, string stderr, string error, string hint)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(exit == 2 && lines.Length == 2, $"{what}: exit {exit}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.StartsWith(error, lines[0], StringComparison.Ordinal);
        Assert.StartsWith(hint, lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }
}
