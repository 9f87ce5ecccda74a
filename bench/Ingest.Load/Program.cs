using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

// Load generator for the upload benchmark: N concurrent clients PUT the same 1-minute mono WAV
// (960 KB) for a fixed time; reports uploads/s, MB/s and request latency percentiles, and — when
// --callbacks is on — receives the vault's status callbacks and measures the time from each
// upload's 201 to its completed callback arriving, plus the server's RSS over time. The first
// --warmup seconds run the same load unmeasured (the JIT and the caches settle). With --metrics,
// the server's /metrics is read at the start and end of the measured window: its CPU seconds and
// its own histogram of "state change → callback leaving the server".
// With --download K it measures the other way: K such recordings are uploaded first (unmeasured),
// then the N clients GET their media (the ciphertext, ~1 MB each, chosen at random) for the time
// given — what an account's downloads cost, each one an audit event committed before the bytes leave.
//   Ingest.Load --url URL [--user AC --password TOKEN] [--clients 32] [--seconds 60] [--warmup 0] [--callbacks] [--metrics] [--pid PID[,PID...]] [--big-gib 0] [--download K]
var opts = BenchArgs.Parse(args);
var url = opts["url"].TrimEnd('/');
int clients = int.Parse(opts.GetValueOrDefault("clients", "32"));
int seconds = int.Parse(opts.GetValueOrDefault("seconds", "60"));
int warmup = int.Parse(opts.GetValueOrDefault("warmup", "0"));
bool scrape = opts.ContainsKey("metrics");
bool callbacks = opts.ContainsKey("callbacks");
// --pid: the server's process, or a comma-separated list (a cluster's instances: CPU is their sum,
// RSS is the first one's).
int[] pids = opts.TryGetValue("pid", out var p) ? [.. p.Split(',').Select(int.Parse)] : [];
int? pid = pids.Length > 0 ? pids[0] : null;
double bigGib = double.Parse(opts.GetValueOrDefault("big-gib", "0"), System.Globalization.CultureInfo.InvariantCulture);
int download = int.Parse(opts.GetValueOrDefault("download", "0"));

byte[] Wav(long dataBytes)
{
    var data = new byte[dataBytes];
    RandomNumberGenerator.Fill(data);
    var header = new MemoryStream();
    var w = new BinaryWriter(header);
    w.Write("RIFF"u8); w.Write((int)(36 + dataBytes)); w.Write("WAVEfmt "u8); w.Write(16); w.Write((short)1); w.Write((short)1);
    w.Write(8000); w.Write(16000); w.Write((short)2); w.Write((short)16); w.Write("data"u8); w.Write((int)dataBytes);
    return [.. header.ToArray(), .. data];
}
var wav = Wav(60 * 16000);

// Upload end and callback arrival per recording; a callback may arrive before the client has
// even read the 201, so both sides are kept and paired at the end.
var sent = new ConcurrentDictionary<string, long>();
var arrived = new ConcurrentDictionary<string, long>();
string? receiverUrl = null;
WebApplication? receiver = null;
if (callbacks)
{
    // No config file watcher: it would watch the working directory, the servers' data folders included.
    var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    receiver = builder.Build();
    receiver.MapPost("/cb", async (HttpContext context) =>
    {
        long now = Stopwatch.GetTimestamp();
        var form = await context.Request.ReadFormAsync();
        if (form["RecordingStatus"] == "completed")
        {
            arrived[form["RecordingSid"].ToString()] = now;
        }
        return Results.Ok();
    });
    await receiver.StartAsync();
    receiverUrl = receiver.Urls.First() + "/cb";
}

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(1, clients * 2) }) { Timeout = TimeSpan.FromMinutes(30) };
if (opts.TryGetValue("user", out var user))
{
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{opts["password"]}")));
}
string Target() => $"{url}/v1/Ingest/Calls/CA{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}/Recording" +
    (receiverUrl is null ? "" : "?RecordingStatusCallback=" + Uri.EscapeDataString(receiverUrl));

// --download: the recordings to read, uploaded before the clock starts.
var media = new List<string>();
for (int i = 0; i < download; i++)
{
    using var made = await http.PutAsync(Target(), new ByteArrayContent(wav));
    var sid = JsonDocument.Parse(await made.Content.ReadAsStringAsync()).RootElement.GetProperty("sid").GetString();
    media.Add($"{url}/2010-04-01/Accounts/{opts["user"]}/Recordings/{sid}");
}
long bytesRead = 0;

var rss = new List<long>();
using var sampling = new CancellationTokenSource();
var sampler = Task.Run(async () =>
{
    while (pid is not null && !sampling.IsCancellationRequested)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        if (line is not null)
        {
            lock (rss) { rss.Add(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])); }
        }
        await Task.Delay(500).ContinueWith(_ => { }, TaskScheduler.Default);
    }
});

var latencies = new ConcurrentBag<double>();
long failures = 0;
var clock = Stopwatch.StartNew();
var from = TimeSpan.FromSeconds(warmup);
var deadline = from + TimeSpan.FromSeconds(seconds);
Dictionary<string, double>? before = null;
double cpuBefore = 0;
var windowStart = clients > 0 ? Task.Run(async () =>
{
    await Task.Delay(from);
    cpuBefore = ServerMetrics.CpuSeconds(pids);
    before = scrape ? await ServerMetrics.ScrapeAsync(url) : null;
}) : Task.CompletedTask;
await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
{
    while (clock.Elapsed < deadline)
    {
        long start = Stopwatch.GetTimestamp();
        using var response = download > 0 ? await http.GetAsync(media[Random.Shared.Next(media.Count)]) : await http.PutAsync(Target(), new ByteArrayContent(wav));
        var body = download > 0 ? "" : await response.Content.ReadAsStringAsync();
        long got = download > 0 ? (await response.Content.ReadAsByteArrayAsync()).Length : 0;
        long end = Stopwatch.GetTimestamp();
        var at = clock.Elapsed;
        if (at < from || at > deadline)
        {
            continue;
        }
        Interlocked.Add(ref bytesRead, got);
        if ((int)response.StatusCode != (download > 0 ? 200 : 201))
        {
            Interlocked.Increment(ref failures);
            continue;
        }
        latencies.Add(Stopwatch.GetElapsedTime(start, end).TotalMilliseconds);
        if (callbacks)
        {
            sent[JsonDocument.Parse(body).RootElement.GetProperty("sid").GetString()!] = end;
        }
    }
})));
await windowStart;
double elapsed = Math.Max(0, clock.Elapsed.TotalSeconds - warmup);
double cpuUsed = ServerMetrics.CpuSeconds(pids) - cpuBefore;
var after = scrape && clients > 0 ? await ServerMetrics.ScrapeAsync(url) : null;
if (callbacks)
{
    var wait = Stopwatch.StartNew();
    while (sent.Keys.Any(k => !arrived.ContainsKey(k)) && wait.Elapsed < TimeSpan.FromSeconds(30))
    {
        await Task.Delay(50);
    }
}
var sorted = latencies.Order().ToArray();
double? Pct(double[] values, double q) => values.Length == 0 ? null : values[Math.Min(values.Length - 1, (int)(q * values.Length))];
var result = new Dictionary<string, object?>
{
    ["uploads"] = sorted.Length,
    ["failures"] = failures,
    ["seconds"] = Math.Round(elapsed, 2),
    ["uploads_per_s"] = elapsed > 0 ? Math.Round(sorted.Length / elapsed, 1) : 0,
    ["mb_per_s"] = elapsed > 0 ? Math.Round(sorted.Length * (double)wav.Length / elapsed / 1e6, 1) : 0,
    ["p50_ms"] = Pct(sorted, 0.50) is { } p50 ? Math.Round(p50, 1) : null,
    ["p99_ms"] = Pct(sorted, 0.99) is { } p99 ? Math.Round(p99, 1) : null,
};
if (callbacks)
{
    var delays = sent.Where(p => arrived.ContainsKey(p.Key))
        .Select(p => Math.Max(0, Stopwatch.GetElapsedTime(p.Value, arrived[p.Key]).TotalMilliseconds)).Order().ToArray();
    result["callbacks"] = delays.Length;
    result["callbacks_missing"] = sent.Keys.Count(k => !arrived.ContainsKey(k));
    result["callback_p50_ms"] = Pct(delays, 0.50) is { } c50 ? Math.Round(c50, 1) : null;
    result["callback_p99_ms"] = Pct(delays, 0.99) is { } c99 ? Math.Round(c99, 1) : null;
}
if (download > 0)
{
    // The same counts, named for what they are.
    result["downloads"] = result["uploads"];
    result["downloads_per_s"] = result["uploads_per_s"];
    result["mb_per_s"] = elapsed > 0 ? Math.Round(bytesRead / elapsed / 1e6, 1) : 0;
}
if (pid is not null && clients > 0)
{
    result["server_cpu_seconds"] = Math.Round(cpuUsed, 2);
    result["server_cpu_ms_per_upload"] = sorted.Length > 0 ? Math.Round(1000 * cpuUsed / sorted.Length, 2) : null;
    result["server_cpu_ms_per_request"] = result["server_cpu_ms_per_upload"];
}
if (before is not null && after is not null)
{
    // The server's own view: how its callback queue histogram changed over the window.
    var (q50, n) = ServerMetrics.Quantile(before, after, "voicevault_callback_queue_duration_seconds", 0.50);
    var (q99, _) = ServerMetrics.Quantile(before, after, "voicevault_callback_queue_duration_seconds", 0.99);
    result["server_callbacks"] = n;
    result["server_callback_queue_p50_ms"] = q50 is { } v50 ? Math.Round(v50 * 1000, 1) : null;
    result["server_callback_queue_p99_ms"] = q99 is { } v99 ? Math.Round(v99 * 1000, 1) : null;
}
if (bigGib > 0)
{
    // One big upload, streamed from a generator (never held in memory here either).
    long dataBytes = (long)(bigGib * (1L << 30));
    var header = Wav(0)[..44];
    BitConverter.GetBytes((int)Math.Min(int.MaxValue, dataBytes)).CopyTo(header, 40);
    var content = new StreamContent(new GeneratedStream(header, dataBytes));
    content.Headers.ContentLength = 44 + dataBytes;
    var big = Stopwatch.StartNew();
    using var response = await http.PutAsync(Target(), content);
    result["big_upload_bytes"] = 44 + dataBytes;
    result["big_upload_status"] = (int)response.StatusCode;
    result["big_upload_seconds"] = Math.Round(big.Elapsed.TotalSeconds, 1);
    result["big_upload_sid"] = response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("sid").GetString() : null;
}
sampling.Cancel();
await sampler;
if (rss.Count > 0)
{
    result["server_rss_mib_min"] = Math.Round(rss.Min() / 1024.0, 1);
    result["server_rss_mib_max"] = Math.Round(rss.Max() / 1024.0, 1);
    result["server_rss_mib_last"] = Math.Round(rss[^1] / 1024.0, 1);
}
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
if (receiver is not null)
{
    await receiver.StopAsync();
}

sealed class GeneratedStream(byte[] head, long length) : Stream
{
    private readonly byte[] _block = RandomNumberGenerator.GetBytes(1 << 20);
    private long _position;

    public override int Read(byte[] buffer, int offset, int count)
    {
        long total = head.Length + length;
        int n = (int)Math.Min(count, total - _position);
        int written = 0;
        while (written < n)
        {
            long at = _position + written;
            if (at < head.Length)
            {
                buffer[offset + written++] = head[at];
                continue;
            }
            int inBlock = (int)((at - head.Length) & ((1 << 20) - 1));
            int take = Math.Min(n - written, (1 << 20) - inBlock);
            Array.Copy(_block, inBlock, buffer, offset + written, take);
            written += take;
        }
        _position += n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => head.Length + length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
