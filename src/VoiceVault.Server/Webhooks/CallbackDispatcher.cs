using System.Diagnostics;
using Dapper;
using VoiceVault.Server.Accounts;
using VoiceVault.Server.Api;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Webhooks;

/// <summary>
/// Delivers the outbox: at least once, signed, retried with exponential backoff (capped), never on
/// the ingest path. A row is claimed by moving its next attempt past a lease, so several instances
/// can share one outbox; rows left by a crash are simply due again after their lease.
/// </summary>
public sealed class CallbackDispatcher(
    IVaultDatabase database, AccountStore accounts, TimeProvider clock, ILogger<CallbackDispatcher> log, IHttpClientFactory httpClients) : BackgroundService
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromHours(24);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, Task> _inFlight = new();

    /// <summary>Set by tests and operators: the first retry delay (doubles each attempt, capped at 5 min).</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Tells the dispatcher that new rows are due, so it does not wait for its next poll.</summary>
    public void Wake() => _wake.Release();

    private sealed record Row(long Seq, string AccountSid, string RecordingSid, string Url, string Method, string Payload, long Attempts, string NextAttemptAt, string DateCreated);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var inFlight = new SemaphoreSlim(64);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var row in await ClaimDueAsync(stoppingToken))
                {
                    await inFlight.WaitAsync(stoppingToken);
                    _inFlight[row.Seq] = Task.Run(async () =>
                    {
                        try
                        {
                            await DeliverAsync(row, stoppingToken);
                        }
                        finally
                        {
                            inFlight.Release();
                            _inFlight.TryRemove(row.Seq, out _);
                        }
                    }, CancellationToken.None);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogError(e, "Callback outbox scan failed; retrying");
            }
            await _wake.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Stops claiming, then waits for deliveries under way: they finish or hand their rows back.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Task.WhenAll(_inFlight.Values).WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    // One statement claims a batch: the rows it moves past the lease are this instance's.
    private async Task<List<Row>> ClaimDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var writer = await database.WriterAsync(cancellationToken);
        await using var db = await database.OpenAsync(cancellationToken);
        return (await db.QueryAsync<Row>("""
            UPDATE outbox SET next_attempt_at = @lease
            WHERE seq IN (SELECT seq FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= @now ORDER BY seq LIMIT 64)
            RETURNING seq, account_sid, recording_sid, url, method, payload, attempts, next_attempt_at, date_created
            """, new { now = Dates.Stored(now), lease = Dates.Stored(now + Lease) })).OrderBy(r => r.Seq).ToList();
    }

    private async Task DeliverAsync(Row row, CancellationToken cancellationToken)
    {
        string? error;
        var clockStart = Stopwatch.GetTimestamp();
        var parameters = StatusCallback.Decode(row.Payload);
        var status = parameters.FirstOrDefault(p => p.Key == "RecordingStatus").Value ?? "?";
        try
        {
            var account = await accounts.FindAsync(row.AccountSid);
            if (account is null)
            {
                error = "the account no longer exists";
            }
            else
            {
                using var request = Build(row, parameters, accounts.TokenOf(account));
                using var http = httpClients.CreateClient(nameof(CallbackDispatcher));
                using var response = await http.SendAsync(request, cancellationToken);
                error = response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down mid-delivery: hand the row back at once rather than at the end of its lease.
            await using var gate = await database.WriterAsync(CancellationToken.None);
            await using var release = await database.OpenAsync(CancellationToken.None);
            await release.ExecuteAsync("UPDATE outbox SET next_attempt_at = @now WHERE seq = @seq AND delivered_at IS NULL",
                new { now = Dates.Stored(clock.GetUtcNow()), seq = row.Seq });
            return;
        }
        catch (Exception e)
        {
            // Whatever went wrong, the attempt is recorded and the row retried: never left leased.
            error = e is TaskCanceledException ? "timed out" : $"{e.GetType().Name}: {e.Message}";
        }
        var now = clock.GetUtcNow();
        await using var writer = await database.WriterAsync(CancellationToken.None);
        await using var db = await database.OpenAsync(CancellationToken.None);
        if (error is null)
        {
            await db.ExecuteAsync("UPDATE outbox SET delivered_at = @now, attempts = attempts + 1, last_error = NULL WHERE seq = @seq", new { now = Dates.Stored(now), seq = row.Seq });
            log.LogInformation("Delivered {Status} callback of {RecordingSid} in {Ms} ms after {Attempts} attempt(s)",
                status, row.RecordingSid, Stopwatch.GetElapsedTime(clockStart).TotalMilliseconds, row.Attempts + 1);
            return;
        }
        var attempts = row.Attempts + 1;
        var delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstRetry.Ticks * (1L << (int)Math.Min(attempts - 1, 20))));
        bool giveUp = now - Dates.Parse(row.DateCreated) > GiveUpAfter;
        await db.ExecuteAsync("UPDATE outbox SET attempts = @attempts, last_error = @error, next_attempt_at = @next WHERE seq = @seq",
            new { attempts, error, next = giveUp ? "9999-12-31T00:00:00.000Z" : Dates.Stored(now + delay), seq = row.Seq });
        log.LogWarning("Callback of {RecordingSid} to {Host} failed ({Error}), attempt {Attempts}; {Next}",
            row.RecordingSid, SafeHost(row.Url), error, attempts, giveUp ? "giving up after 24 h" : $"retrying in {delay.TotalSeconds:0.#} s");
    }

    private static HttpRequestMessage Build(Row row, List<KeyValuePair<string, string>> parameters, string token)
    {
        HttpRequestMessage request;
        string signature;
        if (row.Method.Equals("GET", StringComparison.OrdinalIgnoreCase))
        {
            var url = row.Url + (row.Url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + StatusCallback.Encode(parameters);
            request = new HttpRequestMessage(HttpMethod.Get, url);
            signature = StatusCallback.Sign(token, url, []);
        }
        else
        {
            request = new HttpRequestMessage(HttpMethod.Post, row.Url) { Content = new FormUrlEncodedContent(parameters) };
            signature = StatusCallback.Sign(token, row.Url, parameters);
        }
        request.Headers.Add("X-Twilio-Signature", signature);
        request.Headers.UserAgent.ParseAdd("VoiceVault/0.1");
        return request;
    }

    private static string SafeHost(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host + ":" + uri.Port : "(invalid url)";
}
