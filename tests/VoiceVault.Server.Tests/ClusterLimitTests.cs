using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The limits of a cluster are the limits of one vault (docs/operations.md, Limits): two instances
/// on one PostgreSQL behind HAProxy refuse a guesser after as many wrong passwords as one instance
/// would, however the guesses are spread over them, and an account's upload cap holds across both.
/// Always on PostgreSQL (the embedded vault is one process and counts in its memory).
/// </summary>
public sealed class ClusterLimitTests
{
    [Fact]
    public async Task Wrong_passwords_alternating_between_two_instances_are_refused_after_the_same_count_as_on_one()
    {
        await using var cluster = await TwoInstances.StartAsync("--VoiceVault:Limits:ConcurrentUploadsPerAccount", "1");
        var path = $"/2010-04-01/Accounts/{cluster.Sid}/Recordings.json";
        // The owner works on both instances first: each has verified (and caches) the right token.
        foreach (var instance in cluster.Instances)
        {
            using var owner = TestHttp.From(IPAddress.Loopback, instance, cluster.Sid, cluster.Token);
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(path)).StatusCode);
        }

        async Task<HttpStatusCode> GuessAsync(int i)
        {
            using var guess = TestHttp.From(IPAddress.Loopback, cluster.Instances[i % 2], cluster.Sid, $"guess-{i}");
            return (await guess.GetAsync(path)).StatusCode;
        }
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 10; i++)
        {
            statuses.Add(await GuessAsync(i));
        }
        // The tenth guess, on B, emptied the address's bucket. A has not been asked since; it hears of
        // it from B and refuses the right token it holds as verified — else a guesser would keep
        // guessing unchecked on A and learn from the one answer that is not a 429.
        using (var onA = TestHttp.From(IPAddress.Loopback, cluster.Instances[0], cluster.Sid, cluster.Token))
        {
            await Eventually.TrueAsync(async () => (await onA.GetAsync(path)).StatusCode == HttpStatusCode.TooManyRequests,
                "A refuses the verified token from the emptied address", TimeSpan.FromSeconds(5));
        }
        for (int i = 10; i < 30; i++)
        {
            statuses.Add(await GuessAsync(i));
        }
        // The address's bucket holds 10 (the default) for the whole cluster, not 10 per instance.
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 10), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 20)], statuses);

        // The right token from that address waits on every instance, and through the balancer.
        foreach (var url in cluster.Instances.Append(cluster.Balancer.Url).Append(cluster.Balancer.Url))
        {
            using var same = TestHttp.From(IPAddress.Loopback, url, cluster.Sid, cluster.Token);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await same.GetAsync(path)).StatusCode);
        }
        // Another address is not held back by it, on either instance.
        foreach (var instance in cluster.Instances)
        {
            using var other = TestHttp.From(IPAddress.Parse("127.0.0.2"), instance, cluster.Sid, cluster.Token);
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task An_accounts_upload_cap_holds_across_instances_and_frees_when_the_upload_ends()
    {
        await using var cluster = await TwoInstances.StartAsync("--VoiceVault:Limits:ConcurrentUploadsPerAccount", "1");
        await cluster.EncryptAsync();
        var wav = Audio.Wav(10);
        using var onA = TestHttp.Client(cluster.Instances[0], cluster.Sid, cluster.Token);
        var held = new HeldUpload(onA, $"/v1/Ingest/Calls/{Audio.CallSid()}/Recording");
        await held.SendAsync(wav.AsMemory(0, 70_000));
        await Eventually.TrueAsync(async () => await TestDatabase.ScalarAsync(cluster.Key, "SELECT COUNT(*) FROM limit_slots", force: true) == "1",
            "A holds the account's one upload slot");

        using var onB = TestHttp.Client(cluster.Instances[1], cluster.Sid, cluster.Token);
        using (var refused = await onB.PutAsync($"/v1/Ingest/Calls/{Audio.CallSid()}/Recording", new ByteArrayContent(wav)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(20429, body.GetProperty("code").GetInt32());
            Assert.Contains("already has 1 uploads in progress", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Created, (await held.FinishAsync(wav.AsMemory(70_000))).Status);
        using (var accepted = await onB.PutAsync($"/v1/Ingest/Calls/{Audio.CallSid()}/Recording", new ByteArrayContent(wav)))
        {
            Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        }
        Assert.Equal("0", await TestDatabase.ScalarAsync(cluster.Key, "SELECT COUNT(*) FROM limit_slots", force: true));
    }

    [Fact]
    public async Task Failed_authentications_on_two_instances_make_one_count_per_address_and_window_in_the_chain()
    {
        await using var cluster = await TwoInstances.StartAsync("--VoiceVault:Audit:FailedAuthenticationSeconds", "2");
        var path = $"/2010-04-01/Accounts/{cluster.Sid}/Recordings.json";
        for (int i = 0; i < 8; i++)
        {
            using var guess = TestHttp.From(IPAddress.Loopback, cluster.Instances[i % 2], cluster.Sid, $"guess-{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, (await guess.GetAsync(path)).StatusCode);
        }
        using var owner = TestHttp.From(IPAddress.Parse("127.0.0.2"), cluster.Instances[0], cluster.Sid, cluster.Token);
        async Task<List<JsonElement>> FailedAsync() =>
            [.. JsonDocument.Parse(await owner.GetStringAsync($"/v1/Accounts/{cluster.Sid}/AuditEvents?Action=auth.failed&PageSize=100")).RootElement
                .GetProperty("audit_events").EnumerateArray().Select(e => e.Clone())];
        static long Sum(IEnumerable<JsonElement> events) => events.Sum(e => e.GetProperty("details").GetProperty("count").GetInt64());
        await Eventually.TrueAsync(async () => Sum(await FailedAsync()) == 8, "both instances' counts are written", TimeSpan.FromSeconds(20));
        // Each window is one event, whichever instances counted in it: had each instance written
        // its own, a window with guesses on both would be two.
        var events = await FailedAsync();
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("details").GetProperty("from").GetString()).Distinct().Count());
        Assert.Contains(events, e => e.GetProperty("details").GetProperty("count").GetInt64() > 1);
        Assert.Equal("0", await TestDatabase.ScalarAsync(cluster.Key, "SELECT COUNT(*) FROM auth_failures", force: true));
    }

    [Fact]
    public async Task Thirty_two_clients_reading_one_accounts_recording_through_two_instances_make_one_chain_without_gap_or_fork()
    {
        await using var cluster = await TwoInstances.StartAsync();
        await cluster.EncryptAsync();
        using var owner = TestHttp.Client(cluster.Balancer.Url, cluster.Sid, cluster.Token);
        using var upload = await owner.PutAsync($"/v1/Ingest/Calls/{Audio.CallSid()}/Recording", new ByteArrayContent(Audio.Wav(1)));
        var sid = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("sid").GetString();
        var media = $"/2010-04-01/Accounts/{cluster.Sid}/Recordings/{sid}";
        // Each client through the balancer, which spreads them over both instances: each instance
        // groups the events of its own requests; the chain's head row serializes the two.
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            using var http = TestHttp.Client(cluster.Balancer.Url, cluster.Sid, cluster.Token);
            for (int i = 0; i < 4; i++)
            {
                (await http.GetAsync(media)).EnsureSuccessStatusCode();
            }
        }));
        var events = await AuditTrailTests.EventsAsync(owner, cluster.Sid, "&Order=asc");
        Assert.Equal(128, events.Count(e => e.GetProperty("action").GetString() == "recording.media.read"));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("sequence").GetInt64()));
        // Both instances wrote (their request IDs are their own), and every hash links.
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("sid").GetString()).Distinct().Count());
        await AuditTrailTests.VerifiedByPythonAsync(events);
    }

    [Fact]
    public async Task Vaults_sharing_one_PostgreSQL_database_never_hear_each_others_signals()
    {
        // Two vaults, each in its own schema of one database: A's emptied bucket is A's business.
        var (keyA, keyB) = ("signals-a-" + Guid.NewGuid().ToString("N"), "signals-b-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var a = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Database", "postgres", "--ConnectionStrings:VoiceVault", TestDatabase.SchemaConnection(keyA)]);
            await using var b = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Database", "postgres", "--ConnectionStrings:VoiceVault", TestDatabase.SchemaConnection(keyB)]);
            var (heardByA, heardByB) = (new System.Collections.Concurrent.ConcurrentQueue<string>(), new System.Collections.Concurrent.ConcurrentQueue<string>());
            a.Services.GetRequiredService<Core.IClusterSignals>().Subscribe(heardByA.Enqueue);
            var signalsOfB = b.Services.GetRequiredService<Core.IClusterSignals>();
            signalsOfB.Subscribe(heardByB.Enqueue);

            for (int i = 0; i < 10; i++)
            {
                using var guess = TestHttp.From(IPAddress.Loopback, a.BaseUri, a.AccountSid, $"guess-{i}");
                Assert.Equal(HttpStatusCode.Unauthorized, (await guess.GetAsync($"/2010-04-01/Accounts/{a.AccountSid}.json")).StatusCode);
            }
            await Eventually.TrueAsync(() => heardByA.Any(s => s.StartsWith("limits-empty", StringComparison.Ordinal)), "A hears its own emptied bucket");
            // PostgreSQL delivers a session's notifications in commit order: had B listened where A
            // speaks, A's signal would reach B before this later one does.
            await signalsOfB.SendAsync("marker");
            await Eventually.TrueAsync(() => heardByB.Contains("marker"), "B hears its own signal");
            Assert.DoesNotContain(heardByB, s => s.StartsWith("limits-empty", StringComparison.Ordinal));
            using var owner = TestHttp.From(IPAddress.Loopback, b.BaseUri, b.AccountSid, b.AuthToken);
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/2010-04-01/Accounts/{b.AccountSid}.json")).StatusCode);
        }
        finally
        {
            TestDatabase.Drop(keyA, force: true);
            TestDatabase.Drop(keyB, force: true);
        }
    }

    /// <summary>Two vault processes on one PostgreSQL schema and one S3 bucket, and HAProxy in front of them.</summary>
    private sealed class TwoInstances : IAsyncDisposable
    {
        private readonly List<VaultProcess> _processes = [];
        private readonly List<string> _folders = [];

        public string Key { get; } = Directory.CreateTempSubdirectory("vv-limits-").FullName;
        public string Sid { get; } = "AC" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        public string Token { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        public List<Uri> Instances { get; } = [];
        public Balancer Balancer { get; private set; } = null!;

        public static async Task<TwoInstances> StartAsync(params string[] extraArgs)
        {
            var cluster = new TwoInstances();
            try
            {
                string[] shared =
                [
                    "--VoiceVault:Database", "postgres", "--ConnectionStrings:VoiceVault", TestDatabase.SchemaConnection(cluster.Key),
                    "--VoiceVault:Media", "s3", .. TestMedia.S3Args(TestMedia.OptionsFor(cluster.Key)),
                    "--VoiceVault:MasterKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), .. extraArgs,
                ];
                foreach (var id in new[] { "a", "b" })
                {
                    var folder = Directory.CreateTempSubdirectory($"vv-limits-{id}-").FullName;
                    cluster._folders.Add(folder);
                    var process = await VaultProcess.StartAsync(folder, cluster.Sid, cluster.Token, [.. shared, "--VoiceVault:InstanceId", id]);
                    cluster._processes.Add(process);
                    cluster.Instances.Add(process.BaseUri);
                }
                cluster.Balancer = await Balancer.StartAsync(cluster.Instances, Path.Combine(cluster.Key, "haproxy.cfg"));
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        /// <summary>A customer key and the encryption setting, so that uploads are taken.</summary>
        public async Task EncryptAsync()
        {
            using var http = TestHttp.Client(Balancer.Url, Sid, Token);
            using var rsa = RSA.Create(2048);
            using var credential = await http.PostAsync("/v1/Credentials/PublicKeys", new FormUrlEncodedContent(new Dictionary<string, string> { ["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem() }));
            var keySid = JsonDocument.Parse(await credential.Content.ReadAsStringAsync()).RootElement.GetProperty("sid").GetString()!;
            using var setting = await http.PostAsync($"/2010-04-01/Accounts/{Sid}/RecordingEncryption.json",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["Enabled"] = "true", ["PublicKeySid"] = keySid }));
            setting.EnsureSuccessStatusCode();
        }

        public async ValueTask DisposeAsync()
        {
            Balancer?.Dispose();
            foreach (var process in _processes)
            {
                process.Dispose();
            }
            TestDatabase.Drop(Key, force: true);
            await TestMedia.DropAsync(Key, force: true);
            foreach (var folder in _folders.Append(Key))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
