// The console's decrypt-and-play, timed in headless Chromium: sign in, open the recording, choose
// the key file, press Decrypt; the time is the page's own, from the click handler to the audio
// element's canplay event (performance marks), with Playwright's wall time beside it. Meanwhile the page's memory is sampled through the
// DevTools protocol every 10 ms: the JS heap, and the ArrayBuffer backing stores beside it.
//   Console.Decrypt --url URL --user AC --password TOKEN --recording RE --key FILE [--runs 3] [--chromium PATH]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

var opts = new Dictionary<string, string>();
for (int i = 0; i + 1 < args.Length; i += 2)
{
    opts[args[i].TrimStart('-')] = args[i + 1];
}
string url = opts["url"], user = opts["user"], password = opts["password"], recording = opts["recording"], key = opts["key"];
int runs = int.Parse(opts.GetValueOrDefault("runs", "3"), CultureInfo.InvariantCulture);
var chromium = opts.GetValueOrDefault("chromium", "/usr/bin/chromium");

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox", "--disable-dev-shm-usage"] });
var results = new List<Dictionary<string, object>>();
for (int run = 1; run <= runs; run++)
{
    await using var context = await browser.NewContextAsync(new() { BaseURL = url });
    var page = await context.NewPageAsync();
    page.SetDefaultTimeout(300_000);
    await page.GotoAsync("/console");
    await page.GetByLabel("Account SID or API key").FillAsync(user);
    await page.GetByLabel("Auth token or secret").FillAsync(password);
    await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    await page.GetByRole(AriaRole.Heading, new() { Name = "Recordings", Level = 1 }).WaitForAsync();
    await page.GotoAsync($"/console/recordings/{recording}");
    await page.GetByLabel("Private key").SetInputFilesAsync(key);
    var cdp = await context.NewCDPSessionAsync(page);
    await cdp.SendAsync("HeapProfiler.collectGarbage");
    var baseline = await HeapAsync(cdp);
    double peakHeap = 0, peakWithBuffers = 0;
    using var sampling = new CancellationTokenSource();
    // The heap sampled every 10 ms while the page decrypts.
    var sampler = Task.Run(async () =>
    {
        using var every = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        do
        {
            var (used, buffers) = await HeapAsync(cdp);
            peakHeap = Math.Max(peakHeap, used);
            peakWithBuffers = Math.Max(peakWithBuffers, used + buffers);
        }
        while (!sampling.IsCancellationRequested && await every.WaitForNextTickAsync());
    });
    var clock = Stopwatch.StartNew();
    await page.GetByRole(AriaRole.Button, new() { Name = "Decrypt", Exact = true }).ClickAsync();
    await page.WaitForFunctionAsync("() => performance.getEntriesByName('playable').length > 0", null, new() { PollingInterval = 5 });
    var seconds = clock.Elapsed.TotalSeconds;
    sampling.Cancel();
    await sampler;
    var verified = await page.GetByText("Decrypted and verified").CountAsync() == 1;
    var marks = await page.EvaluateAsync<Dictionary<string, double>>(
        "() => { const marks = performance.getEntriesByType('mark'); const t0 = marks[0]?.startTime ?? 0; " +
        "return Object.fromEntries(marks.map(m => [m.name, Math.round(m.startTime - t0)])); }");
    results.Add(new()
    {
        // In the page: from the Decrypt button's click handler to the audio element's canplay event.
        ["run"] = run, ["seconds"] = Math.Round(marks["playable"] / 1000, 3), ["wall_seconds_with_playwright"] = Math.Round(seconds, 2), ["verified"] = verified, ["marks_ms"] = marks,
        ["baseline_heap_mb"] = Math.Round(baseline.Used / 1e6, 1),
        ["peak_js_heap_mb"] = Math.Round(peakHeap / 1e6, 1), ["peak_heap_and_buffers_mb"] = Math.Round(peakWithBuffers / 1e6, 1),
    });
    Console.Error.WriteLine(JsonSerializer.Serialize(results[^1]));
}
Console.WriteLine(JsonSerializer.Serialize(results));

static async Task<(double Used, double Buffers)> HeapAsync(ICDPSession cdp)
{
    var usage = await cdp.SendAsync("Runtime.getHeapUsage");
    double Read(string name) => usage is { } u && u.TryGetProperty(name, out var v) ? v.GetDouble() : 0;
    return (Read("usedSize"), Read("backingStorageSize"));
}
