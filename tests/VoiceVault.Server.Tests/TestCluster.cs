using System.Diagnostics;
using System.Globalization;

namespace VoiceVault.Server.Tests;

/// <summary>
/// <c>VOICEVAULT_TEST_CLUSTER=N</c> (with PostgreSQL and S3): every test vault becomes N instances —
/// the one in this process and N-1 vault processes on the same schema, bucket and master key, each
/// with its own data folder and instance id — behind an HAProxy that sends each request to the next
/// instance in turn. Tests then reach the vault only through the balancer, as a cluster's clients do.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly List<VaultProcess> _processes;
    private readonly List<string> _folders;
    private readonly Balancer _balancer;

    private TestCluster(List<Uri> instances, List<VaultProcess> processes, List<string> folders, Balancer balancer)
    {
        Instances = instances;
        _processes = processes;
        _folders = folders;
        _balancer = balancer;
    }

    /// <summary>The instances per test vault; 1 (no cluster) unless the variable says otherwise.</summary>
    public static int Size => int.TryParse(Environment.GetEnvironmentVariable("VOICEVAULT_TEST_CLUSTER"), CultureInfo.InvariantCulture, out var n) ? n : 1;

    /// <summary>The balancer.</summary>
    public Uri Url => _balancer.Url;

    /// <summary>Every instance, the one in this process first.</summary>
    public IReadOnlyList<Uri> Instances { get; }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Running = new();
    private string? _dataDir;

    /// <summary>Whether a cluster may be formed for this data folder now (none runs for it); the cluster gives it back when stopped.</summary>
    public static bool Claim(string dataDir) => Running.TryAdd(dataDir, true);

    /// <summary>Starts the other instances (given the same <paramref name="extraArgs"/>) of the vault in <paramref name="dataDir"/> (running at <paramref name="first"/>) and the balancer in front of all.</summary>
    public static async Task<TestCluster> StartAsync(Uri first, string dataDir, string sid, string token, string[] extraArgs)
    {
        if (!TestDatabase.IsPostgres || !TestMedia.IsS3)
        {
            throw new InvalidOperationException("VOICEVAULT_TEST_CLUSTER needs VOICEVAULT_TEST_DATABASE=postgres and VOICEVAULT_TEST_MEDIA=s3: the instances share nothing else.");
        }
        var masterKey = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(dataDir, "master.key")));
        var processes = new List<VaultProcess>();
        var folders = new List<string>();
        Balancer? balancer = null;
        try
        {
            for (int i = 2; i <= Size; i++)
            {
                var folder = $"{dataDir}-instance{i}";
                Directory.CreateDirectory(folder);
                folders.Add(folder);
                processes.Add(await VaultProcess.StartAsync(dataDir, sid, token,
                    [.. extraArgs, "--VoiceVault:DataDir", folder, "--VoiceVault:InstanceId", $"instance{i}", "--VoiceVault:MasterKey", masterKey]));
            }
            var instances = new List<Uri> { first };
            instances.AddRange(processes.Select(p => p.BaseUri));
            balancer = await Balancer.StartAsync(instances, $"{dataDir}-haproxy.cfg");
            return new TestCluster(instances, processes, folders, balancer) { _dataDir = dataDir };
        }
        catch
        {
            Stop(processes, folders, balancer);
            Running.TryRemove(dataDir, out _);
            throw;
        }
    }

    private static void Stop(List<VaultProcess> processes, List<string> folders, Balancer? balancer)
    {
        balancer?.Dispose();
        foreach (var process in processes)
        {
            process.Dispose();
        }
        foreach (var path in folders)
        {
            Directory.Delete(path, recursive: true);
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop(_processes, _folders, _balancer);
        Running.TryRemove(_dataDir!, out _);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// HAProxy on a loopback port in front of vault instances: round robin per request, each instance
/// checked on /healthz every 500 ms and taken out after one failed check; a request whose
/// connection is refused is sent to another instance.
/// </summary>
internal sealed class Balancer : IDisposable
{
    private readonly Process _haproxy;
    private readonly string _config;

    private Balancer(Process haproxy, string config, Uri url)
    {
        _haproxy = haproxy;
        _config = config;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<Balancer> StartAsync(IReadOnlyList<Uri> instances, string configPath)
    {
        var url = new Uri($"http://127.0.0.1:{TestHttp.FreePort()}");
        await File.WriteAllTextAsync(configPath, string.Join('\n',
        [
            "defaults", "    mode http", "    timeout connect 5s", "    timeout client 5m", "    timeout server 5m", "    timeout tunnel 5m",
            "    retries 3", "    option redispatch",
            "frontend vault", $"    bind 127.0.0.1:{url.Port}", "    default_backend instances",
            "backend instances", "    balance roundrobin", "    option httpchk GET /healthz", "    timeout check 2s",
            // Two failed checks mark an instance down: one slow check on a loaded CI machine once
            // took an instance out of rotation and sent every live call of a test to the other.
            "    default-server inter 500ms fall 2 rise 1",
            .. instances.Select((u, i) => $"    server i{i + 1} {u.Host}:{u.Port} check"), "",
        ]));
        var haproxy = Process.Start(new ProcessStartInfo("haproxy", ["-db", "-f", configPath]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var balancer = new Balancer(haproxy, configPath, url);
        try
        {
            _ = haproxy.StandardOutput.ReadToEndAsync();
            var errors = haproxy.StandardError.ReadToEndAsync();
            using var plain = TestHttp.Client(url);
            await Eventually.TrueAsync(async () =>
            {
                if (haproxy.HasExited)
                {
                    throw new InvalidOperationException("HAProxy did not start: " + await errors);
                }
                try
                {
                    return (await plain.GetAsync("/healthz")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, "HAProxy answers");
            return balancer;
        }
        catch
        {
            balancer.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (!_haproxy.HasExited)
        {
            _haproxy.Kill();
            _haproxy.WaitForExit();
        }
        _haproxy.Dispose();
        File.Delete(_config);
    }
}
