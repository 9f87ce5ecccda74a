using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VoiceVault.Cli;

/// <summary>
/// <c>voicevault receive</c> (docs/api.md §10): a small server for recording status callbacks. A callback
/// is accepted only with a valid <c>X-Twilio-Signature</c> over <c>--public-url</c> (the URL
/// configured as RecordingStatusCallback, so it works behind a proxy); a completed recording is
/// written to the durable queue and answered 200 at once; workers then fetch, verify, decrypt and
/// store it exactly as <c>fetch</c> does.
/// </summary>
internal static class ReceiveCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "Where to listen, HOST:PORT (e.g. 127.0.0.1:8080).", Required = true };
        var publicUrl = new Option<string>("--public-url") { Description = "The callback URL as configured at the source (signatures are checked over it).", Required = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Where recordings go, as fetch writes them.", Required = true };
        var key = Options.PrivateKey();
        var keyring = new Option<DirectoryInfo?>("--keyring") { Description = "A keyring directory." };
        var baseUrl = new Option<string>("--base-url") { Description = "The API the recordings are fetched from.", DefaultValueFactory = _ => "https://api.twilio.com" };
        var deleteAfter = new Option<bool>("--delete-after") { Description = "Delete each recording at the source once its local copy verified." };
        var state = new Option<DirectoryInfo?>("--state") { Description = "The queue's folder (default: OUT/.voicevault-receive)." };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Recordings fetched at once.", DefaultValueFactory = _ => 4 };
        var passphraseFile = Options.PassphraseFile();
        var command = new Command("receive", "Receive signed recording status callbacks and fetch, verify and decrypt each recording; credentials from TWILIO_* variables.")
        {
            listen, publicUrl, outDir, key, keyring, baseUrl, deleteAfter, state, jobs, passphraseFile,
        };
        command.SetAction(parse => Program.Guard(() =>
        {
            var callbackUrl = parse.GetValue(publicUrl)!;
            if (!Uri.TryCreate(callbackUrl, UriKind.Absolute, out var callbackUri) || callbackUri.Scheme is not ("http" or "https"))
            {
                throw new CliException($"--public-url '{callbackUrl}' is not an http(s) URL", "give the URL exactly as configured as RecordingStatusCallback");
            }
            var token = Environment.GetEnvironmentVariable("TWILIO_AUTH_TOKEN") is { Length: > 0 } t ? t
                : throw new CliException("receive checks signatures with the account's auth token: set TWILIO_AUTH_TOKEN");
            int workers = parse.GetValue(jobs);
            if (workers is < 1 or > 64)
            {
                throw new CliException($"--jobs {workers}: give 1 to 64");
            }
            using var keys = KeyChoice.From(parse.GetValue(key), parse.GetValue(keyring), parse.GetValue(passphraseFile));
            using var api = TwilioApi.FromEnvironment(parse.GetValue(baseUrl)!);
            var target = parse.GetValue(outDir)!;
            Directory.CreateDirectory(target.FullName);
            AtomicOutput.RemoveStale(target.FullName, "RE");
            using var queue = new ReceiveQueue(parse.GetValue(state)?.FullName ?? Path.Combine(target.FullName, ".voicevault-receive"));
            var settings = new FetchCommand.Settings(target, keys, Decrypt: true, parse.GetValue(deleteAfter), Sync: true);
            return RunAsync(parse.GetValue(listen)!, callbackUrl, callbackUri.AbsolutePath, token, api, queue, settings, workers).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> RunAsync(string listen, string callbackUrl, string path, string token, TwilioApi api, ReceiveQueue queue,
        FetchCommand.Settings settings, int workers)
    {
        var tokens = new AccountTokens(api, token);
        var wake = new SemaphoreSlim(0);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{listen}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 64 * 1024);
        await using var app = builder.Build();
        app.MapGet("/healthz", (RequestDelegate)(async context =>
        {
            var (pending, done, failed) = queue.Counts();
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(CliJson.Serialize(new Dictionary<string, object?> { ["status"] = "ok", ["pending"] = pending, ["done"] = done, ["failed"] = failed }));
        }));
        app.MapPost(path, (RequestDelegate)(async context =>
        {
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
            var fields = form?.Select(f => KeyValuePair.Create(f.Key, f.Value.ToString())).ToList() ?? [];
            var account = form?["AccountSid"].ToString() ?? "";
            var recording = form?["RecordingSid"].ToString() ?? "";
            var accountToken = await tokens.ForAsync(account, context.RequestAborted);
            if (accountToken is null || !Verify(accountToken, callbackUrl, fields, context.Request.Headers["X-Twilio-Signature"].ToString()))
            {
                // Unsigned, forged, or signed for another URL: nothing is queued and nothing is said why.
                Log($"refused a callback without a valid signature from {context.Connection.RemoteIpAddress}");
                context.Response.StatusCode = 403;
                return;
            }
            if (form?["RecordingStatus"].ToString() == "completed" && Sids.Is(recording, "RE"))
            {
                if (queue.Enqueue(recording, account))
                {
                    Log($"queued {recording} ({account})");
                    wake.Release();
                }
            }
            context.Response.StatusCode = 200;
        }));
        await app.StartAsync();
        Log($"listening on {listen} for callbacks to {callbackUrl}; recordings go to {settings.Out.FullName}");
        var cancel = Program.Cancellation;
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                var due = queue.Due(workers * 4);
                if (due.Count == 0)
                {
                    var next = queue.NextDue();
                    var wait = next is { } at ? at - DateTimeOffset.UtcNow : TimeSpan.FromMinutes(1);
                    await wake.WaitAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : wait, cancel);
                    continue;
                }
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancel }, async (job, ct) =>
                {
                    FetchCommand.Outcome outcome;
                    try
                    {
                        using var resource = await api.GetJsonAsync($"/2010-04-01/Accounts/{job.AccountSid}/Recordings/{job.RecordingSid}.json", ct);
                        outcome = await FetchCommand.FetchOneAsync(api, settings, resource.RootElement.Clone(), ct);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        var (message, hint) = Program.Explain(e);
                        outcome = new FetchCommand.Outcome(job.RecordingSid, job.AccountSid, "failed", 0, null, message, hint);
                    }
                    if (outcome.Status == "failed")
                    {
                        int attempts = job.Attempts + 1;
                        bool giveUp = attempts >= 12;
                        var delay = TimeSpan.FromSeconds(Math.Min(600, Math.Pow(2, attempts)));
                        queue.Retry(job.RecordingSid, attempts, DateTimeOffset.UtcNow + delay, outcome.Error ?? "failed", giveUp);
                        Log(giveUp ? $"gave up on {job.RecordingSid} after {attempts} attempts: {outcome.Error}"
                            : $"{job.RecordingSid}: {outcome.Error}; again in {delay.TotalSeconds:0} s");
                    }
                    else
                    {
                        queue.Done(job.RecordingSid, outcome.Status == "unavailable" ? "unavailable" : "done");
                        Log($"{outcome.Status} {job.RecordingSid}" + (outcome.Output is null ? $": {outcome.Error}" : $" -> {outcome.Output}"));
                    }
                });
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM: stop taking work; what is queued stays queued.
        }
        await app.StopAsync(CancellationToken.None);
        return 0;
    }

    /// <summary>Twilio's signature: base64(HMAC-SHA1(token, URL + each POST field's name and value, by name)), compared in constant time.</summary>
    internal static bool Verify(string token, string url, IEnumerable<KeyValuePair<string, string>> fields, string signature)
    {
        var data = new StringBuilder(url);
        foreach (var (name, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            data.Append(name).Append(value);
        }
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(data.ToString())));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature));
    }

    // SIDs, sizes and statuses only: never a token, a signature or a key.
    private static void Log(string line) => Console.Error.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'} {line}");

    /// <summary>
    /// The auth token each account signs with: the main account's from TWILIO_AUTH_TOKEN, its
    /// subaccounts' from the API (a parent may read them), refreshed at most once a minute so a
    /// stream of forged AccountSids cannot make the receiver hammer the API.
    /// </summary>
    private sealed class AccountTokens(TwilioApi api, string mainToken)
    {
        private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal) { [api.AccountSid] = mainToken };
        private readonly SemaphoreSlim _refresh = new(1);
        private DateTimeOffset _refreshed = DateTimeOffset.MinValue;

        public async Task<string?> ForAsync(string account, CancellationToken cancellationToken)
        {
            lock (_tokens)
            {
                if (_tokens.TryGetValue(account, out var known))
                {
                    return known;
                }
            }
            if (!Sids.Is(account, "AC") || DateTimeOffset.UtcNow - _refreshed < TimeSpan.FromMinutes(1))
            {
                return null;
            }
            await _refresh.WaitAsync(cancellationToken);
            try
            {
                if (DateTimeOffset.UtcNow - _refreshed >= TimeSpan.FromMinutes(1))
                {
                    _refreshed = DateTimeOffset.UtcNow;
                    try
                    {
                        await foreach (var sub in api.ListAsync("/2010-04-01/Accounts.json?PageSize=1000", "accounts", cancellationToken))
                        {
                            if (sub.TryGetProperty("sid", out var sid) && sub.TryGetProperty("auth_token", out var t) && t.ValueKind == JsonValueKind.String)
                            {
                                lock (_tokens)
                                {
                                    _tokens[sid.GetString()!] = t.GetString()!;
                                }
                            }
                        }
                    }
                    catch (CliException)
                    {
                        // The source is down: known accounts still work; the rest are refused until it is back.
                    }
                }
                lock (_tokens)
                {
                    return _tokens.GetValueOrDefault(account);
                }
            }
            finally
            {
                _refresh.Release();
            }
        }
    }
}
