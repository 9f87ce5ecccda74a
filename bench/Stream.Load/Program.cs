using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

// Load generator for live ingest: N concurrent calls, each a Twilio Media Stream sending both
// tracks as 20 ms μ-law frames in real time, then stop; calls start over the first second and
// last from 75 % to 100 % of S seconds, so their ends are spread as real calls' are. Reports how far the
// generator fell behind real time, how many frames the server took (the vault's /metrics, or the
// sink's /frames), the server's CPU and memory, and — for the vault — the p99 of "frame arrives →
// encrypted" and "call ends → recordings stored, callbacks on their way" from its histograms.
//   Stream.Load --url URL [--user AC --password TOKEN] [--calls 100] [--seconds 60] [--pid PID] [--sink]
var opts = BenchArgs.Parse(args);
var url = opts["url"].TrimEnd('/');
int calls = int.Parse(opts.GetValueOrDefault("calls", "100"), CultureInfo.InvariantCulture);
int seconds = int.Parse(opts.GetValueOrDefault("seconds", "60"), CultureInfo.InvariantCulture);
int? pid = opts.TryGetValue("pid", out var p) ? int.Parse(p, CultureInfo.InvariantCulture) : null;
bool sink = opts.ContainsKey("sink");
string? auth = opts.TryGetValue("user", out var user) ? "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{opts["password"]}")) : null;

async Task<double> FramesTakenAsync()
{
    if (sink)
    {
        using var http = new HttpClient();
        return double.Parse(await http.GetStringAsync($"{url}/frames"), CultureInfo.InvariantCulture);
    }
    return (await ServerMetrics.ScrapeAsync(url)).GetValueOrDefault("voicevault_stream_frames_received_total");
}

var payload = Convert.ToBase64String(RandomNumberGenerator.GetBytes(160));
var lateness = new ConcurrentBag<double>();
long sent = 0, failed = 0;
double takenBefore = await FramesTakenAsync();
var metricsBefore = sink ? null : await ServerMetrics.ScrapeAsync(url);
double rssIdle = ServerMetrics.RssMiB(pid);
double rssPeak = rssIdle;
double cpuBefore = ServerMetrics.CpuSeconds(pid);
var clock = Stopwatch.StartNew();
using var sampling = new CancellationTokenSource();
var sampler = Task.Run(async () =>
{
    while (!sampling.IsCancellationRequested)
    {
        rssPeak = Math.Max(rssPeak, ServerMetrics.RssMiB(pid));
        await Task.Delay(500).ContinueWith(_ => { }, TaskScheduler.Default);
    }
});

await Task.WhenAll(Enumerable.Range(0, calls).Select(n => Task.Run(async () =>
{
    // Calls start spread over the first second, as real traffic does.
    await Task.Delay(TimeSpan.FromMilliseconds(1000.0 * n / Math.Max(1, calls)));
    using var socket = new ClientWebSocket();
    if (auth is not null)
    {
        socket.Options.SetRequestHeader("Authorization", auth);
    }
    try
    {
        await socket.ConnectAsync(new Uri(url.Replace("http://", "ws://", StringComparison.Ordinal) + "/v1/Ingest/MediaStream"), CancellationToken.None);
        string callSid = "CA" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), streamSid = "MZ" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        Task Send(string json) => socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);
        await Send("{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
        await Send($"{{\"event\":\"start\",\"sequenceNumber\":\"1\",\"start\":{{\"streamSid\":\"{streamSid}\",\"callSid\":\"{callSid}\",\"tracks\":[\"inbound\",\"outbound\"]," +
            $"\"mediaFormat\":{{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000,\"channels\":1}},\"customParameters\":{{}}}},\"streamSid\":\"{streamSid}\"}}");
        var start = clock.Elapsed;
        // Calls end spread over the last quarter of the run, as real calls do, not all in one instant.
        int frames = (int)(seconds * 50 * (0.75 + 0.25 * n / Math.Max(1, calls)));
        for (int k = 0; k < frames; k++)
        {
            var due = start + TimeSpan.FromMilliseconds(20 * k);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            lateness.Add((clock.Elapsed - due).TotalMilliseconds);
            foreach (var track in new[] { "inbound", "outbound" })
            {
                await Send($"{{\"event\":\"media\",\"sequenceNumber\":\"{k * 2 + 2}\",\"media\":{{\"track\":\"{track}\",\"chunk\":\"{k + 1}\",\"timestamp\":\"{k * 20}\",\"payload\":\"{payload}\"}},\"streamSid\":\"{streamSid}\"}}");
                Interlocked.Increment(ref sent);
            }
        }
        await Send($"{{\"event\":\"stop\",\"sequenceNumber\":\"{frames * 2 + 2}\",\"stop\":{{\"callSid\":\"{callSid}\"}},\"streamSid\":\"{streamSid}\"}}");
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        var buffer = new byte[256];
        while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            if ((await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType == WebSocketMessageType.Close)
            {
                break;
            }
        }
    }
    catch (Exception e) when (e is WebSocketException or IOException)
    {
        Interlocked.Increment(ref failed);
    }
})));
double elapsed = clock.Elapsed.TotalSeconds;
double cpu = ServerMetrics.CpuSeconds(pid) - cpuBefore;
await Task.Delay(500);
double taken = await FramesTakenAsync() - takenBefore;
sampling.Cancel();
await sampler;

var late = lateness.Order().ToArray();
double Pct(double[] v, double q) => v.Length == 0 ? 0 : v[Math.Min(v.Length - 1, (int)(q * v.Length))];
var result = new Dictionary<string, object?>
{
    ["calls"] = calls,
    ["seconds"] = seconds,
    ["failed_calls"] = failed,
    ["frames_sent"] = sent,
    ["frames_taken"] = taken,
    ["frames_lost"] = sent - taken,
    ["generator_late_p99_ms"] = Math.Round(Pct(late, 0.99), 1),
    ["generator_late_max_ms"] = Math.Round(late.Length > 0 ? late[^1] : 0, 1),
    ["server_cpu_seconds"] = Math.Round(cpu, 2),
    // Two frames (one per track) per 20 ms: 100 frames per call-second.
    ["server_cpu_ms_per_call_second"] = Math.Round(1000 * cpu / Math.Max(1, sent / 100.0), 3),
    ["server_rss_idle_mib"] = Math.Round(rssIdle, 1),
    ["server_rss_peak_mib"] = Math.Round(rssPeak, 1),
    ["server_rss_kib_per_call"] = Math.Round((rssPeak - rssIdle) * 1024 / Math.Max(1, calls), 1),
    ["elapsed_seconds"] = Math.Round(elapsed, 1),
};
if (metricsBefore is not null)
{
    var metricsAfter = await ServerMetrics.ScrapeAsync(url);
    var (frameP99, _) = ServerMetrics.Quantile(metricsBefore, metricsAfter, "voicevault_stream_frame_duration_seconds", 0.99);
    var (stopP50, stops) = ServerMetrics.Quantile(metricsBefore, metricsAfter, "voicevault_stream_stop_duration_seconds", 0.50);
    var (stopP99, _) = ServerMetrics.Quantile(metricsBefore, metricsAfter, "voicevault_stream_stop_duration_seconds", 0.99);
    result["frame_to_ciphertext_p99_ms"] = frameP99 is { } f ? Math.Round(f * 1000, 2) : null;
    result["stop_to_callback_p50_ms"] = stopP50 is { } s50 ? Math.Round(s50 * 1000, 1) : null;
    result["stop_to_callback_p99_ms"] = stopP99 is { } s99 ? Math.Round(s99 * 1000, 1) : null;
    result["calls_ended"] = stops;
}
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
