using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Twilio.Clients;
using Twilio.Http;
using VoiceVault.Server;
using HttpClient = System.Net.Http.HttpClient;

namespace VoiceVault.Server.Tests;

/// <summary>
/// A real vault: Kestrel on a loopback port, media files in a fresh data folder, metadata on the
/// backend under test (<see cref="TestDatabase"/>: SQLite in the folder, or a fresh PostgreSQL schema). Every
/// log line is kept, so tests can check what was (not) logged.
/// </summary>
public sealed class VaultServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private TestCluster? _cluster;
    private bool _stopped;

    private VaultServer(WebApplication app, string dataDir, string accountSid, string token, ConcurrentQueue<string> logs)
    {
        _app = app;
        DataDir = dataDir;
        AccountSid = accountSid;
        AuthToken = token;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUri = new Uri(address);
    }

    /// <summary>Every instance serving this vault: this process's alone, or a <see cref="TestCluster"/>'s.</summary>
    public IReadOnlyList<Uri> Instances => _cluster?.Instances ?? [BaseUri];

    public string DataDir { get; }

    public IServiceProvider Services => _app.Services;

    public string AccountSid { get; }

    public string AuthToken { get; }

    /// <summary>Where clients reach the vault: this process's Kestrel, or the balancer of a <see cref="TestCluster"/>.</summary>
    public Uri BaseUri { get; private set; }

    public ConcurrentQueue<string> Logs { get; }

    public static async Task<VaultServer> StartAsync(string? dataDir = null, string? sid = null, string? token = null, bool keepData = false, string[]? extraArgs = null,
        Action<IServiceCollection>? services = null)
    {
        dataDir ??= Directory.CreateTempSubdirectory("vv-server-").FullName;
        sid ??= "AC" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        token ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var logs = new ConcurrentQueue<string>();
        var app = VaultApp.Build(["--urls", "http://127.0.0.1:0", "--VoiceVault:DataDir", dataDir,
            "--VoiceVault:Bootstrap:AccountSid", sid, "--VoiceVault:Bootstrap:AuthToken", token, .. TestDatabase.ArgsFor(dataDir), .. TestMedia.ArgsFor(dataDir),
            // The tests' receivers listen on loopback, which a vault does not call unless told to.
            "--VoiceVault:Webhooks:AllowedNetworks", "127.0.0.0/8", .. extraArgs ?? []], builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(new CollectingLoggerProvider(logs));
            builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
            services?.Invoke(builder.Services);
        });
        app.Services.GetRequiredService<Webhooks.CallbackDispatcher>().FirstRetry = TimeSpan.FromMilliseconds(100);
        await VaultApp.BootstrapAsync(app);
        await app.StartAsync();
        var server = new VaultServer(app, dataDir, sid, token, logs) { KeepData = keepData };
        // A vault given test doubles is one instance (the doubles live in this process), so is one
        // told to keep its media in local files (nothing another instance could read), and so is
        // a second vault started on a data folder whose cluster already runs (a test of two
        // instances of its own).
        var args = extraArgs ?? [];
        bool localMedia = args.Zip(args.Skip(1)).Any(p => p is ("--VoiceVault:Media", "files"));
        if (TestCluster.Size > 1 && services is null && !localMedia && TestCluster.Claim(dataDir))
        {
            try
            {
                server._cluster = await TestCluster.StartAsync(server.BaseUri, dataDir, sid, token, extraArgs ?? []);
                server.BaseUri = server._cluster.Url;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
        return server;
    }

    /// <summary>Stops this process's vault but keeps its data folder, for restart tests.</summary>
    public bool KeepData { get; set; }

    /// <summary>
    /// Stops this vault and starts a new one on the same data: dispose whichever the variable holds
    /// last (<c>try … finally</c>); if the new one does not start, disposing this one removes the data.
    /// </summary>
    public async Task<VaultServer> RestartAsync()
    {
        KeepData = true;
        await DisposeAsync();
        try
        {
            return await StartAsync(DataDir, AccountSid, AuthToken);
        }
        catch
        {
            KeepData = false;
            throw;
        }
    }

    /// <summary>The official Twilio SDK, its HTTP pointed at this server.</summary>
    public TwilioRestClient Twilio(string user, string password, string? accountSid = null) => TwilioAt(BaseUri, user, password, accountSid);

    /// <summary>The official Twilio SDK, its requests for api.twilio.com sent to the vault at <paramref name="vault"/> instead.</summary>
    public static TwilioRestClient TwilioAt(Uri vault, string user, string password, string? accountSid = null) =>
        new(user, password, accountSid: accountSid, httpClient: new SystemNetHttpClient(new HttpClient(new RedirectToVault(vault))));

    public TwilioRestClient Twilio() => Twilio(AccountSid, AuthToken);

    /// <summary>A plain HTTP client with Basic credentials, or none.</summary>
    public HttpClient Http(string? user = null, string? password = null) => TestHttp.Client(BaseUri, user, password);

    /// <summary>Uploads a WAV through the file-ingest endpoint.</summary>
    public async Task<(System.Net.HttpStatusCode Status, System.Text.Json.JsonElement Body)> UploadAsync(string user, string password, string callSid, byte[] wav, string query = "")
    {
        using var http = Http(user, password);
        var response = await http.PutAsync($"/v1/Ingest/Calls/{callSid}/Recording{(query.Length > 0 ? "?" + query : "")}", new ByteArrayContent(wav));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, System.Text.Json.JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Waits until the vault (all its instances together) has taken <paramref name="frames"/> media frames from live streams in all.</summary>
    public Task WaitForFramesAsync(long frames) => WaitForFramesAsync(Instances, frames);

    /// <summary>Waits until the vault at <paramref name="instances"/> (in this process or their own) has taken <paramref name="frames"/> media frames in all.</summary>
    public static Task WaitForFramesAsync(IReadOnlyList<Uri> instances, long frames) =>
        Eventually.TrueAsync(async () => await MetricAsync(instances, "voicevault_stream_frames_received_total") == frames, $"the vault takes {frames} frames in all");

    /// <summary>A metric of the vault: each instance's value from its /metrics, summed; -1 when no instance has it.</summary>
    public Task<double> MetricAsync(string name) => MetricAsync(Instances, name);

    private static async Task<double> MetricAsync(IReadOnlyList<Uri> instances, string name)
    {
        var values = await Task.WhenAll(instances.Select(async u =>
        {
            using var plain = TestHttp.Client(u);
            return PrometheusText.Parse(await plain.GetStringAsync("/metrics")).TryGetValue(name, out var value) ? value : (double?)null;
        }));
        return values.Any(v => v is not null) ? values.Sum(v => v ?? 0) : -1;
    }

    /// <summary>
    /// Every byte under the data folder, on PostgreSQL every value in the vault's schema, and on S3
    /// every object in the vault's bucket, for "this never reached the disk, the database or the
    /// object store" checks.
    /// </summary>
    public IEnumerable<(string Path, byte[] Content)> DataFiles()
    {
        var files = Directory.EnumerateFiles(DataDir, "*", SearchOption.AllDirectories).Select(p => (p, ReadShared(p)));
        if (TestDatabase.IsPostgres)
        {
            files = files.Append(("postgres:" + DataDir, TestDatabase.Dump(DataDir)));
        }
        if (TestMedia.IsS3)
        {
            files = files.Concat(TestMedia.EverythingAsync(DataDir).GetAwaiter().GetResult().Select(o => ("s3:" + o.Name, o.Content)));
        }
        return files;
    }

    private static byte[] ReadShared(string path)
    {
        // SQLite may remove its -wal/-shm files between the listing and the read.
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        using var _ = stream;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            if (_cluster is not null)
            {
                await _cluster.DisposeAsync();
            }
            await _app.StopAsync();
            await _app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
        if (KeepData)
        {
            return;
        }
        TestDatabase.Drop(DataDir);
        await TestMedia.DropAsync(DataDir);
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class RedirectToVault(Uri vault) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.Host.EndsWith("twilio.com", StringComparison.Ordinal))
            {
                request.RequestUri = new Uri(vault, request.RequestUri.PathAndQuery);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class CollectingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Collector(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Collector(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}
