using System.Diagnostics;
using System.Threading.Channels;
using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Webhooks;

/// <summary>
/// Delivers the outbox: at least once, signed, retried with exponential backoff (capped), never on
/// the ingest path. A row is claimed by moving its next attempt past a lease, so several instances
/// can share one outbox; rows left by a crash are simply due again after their lease. Successful
/// deliveries are marked in batches (one write for all that finished meanwhile): a crash between
/// delivery and mark sends that callback again, which at-least-once allows.
/// </summary>
public sealed class CallbackDispatcher(
    IOutboxStore outbox, AccountDirectory accounts, TimeProvider clock, ILogger<CallbackDispatcher> log, IHttpClientFactory httpClients,
    VaultMetrics metrics, IVaultDatabase database, INotificationStore notifications, CallbackUrlSeal callbackUrls) : BackgroundService, ICallbackSender
{
    private static readonly TimeSpan Lease = RecordingLifecycle.CallbackLease;
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromHours(24);
    // Never due again: a message given up on stays in the outbox, with its last error, for the record.
    private static readonly DateTimeOffset GaveUp = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan TokenCacheFor = TimeSpan.FromSeconds(10);
    private const int MaxInFlight = 64;
    private readonly SemaphoreSlim _wake = new(0);
    private int _wakePending;
    private readonly SemaphoreSlim _slots = new(MaxInFlight);
    private readonly System.Collections.Concurrent.ConcurrentQueue<OutboxMessage> _waiting = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, Task> _inFlight = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string? Token, long Until)> _tokens = new(StringComparer.Ordinal);
    private readonly Channel<long> _delivered = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private Task? _marking;

    /// <summary>Set by tests and operators: the first retry delay (doubles each attempt, capped at 5 min).</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Delivers a row this instance has just committed (born leased to it) without a claim round
    /// trip. Called right after the commit, on the committing thread: with a delivery slot free,
    /// the request is written there and then (signing and a pooled connection take microseconds),
    /// so under load the callback does not wait behind the thread pool's queue to leave.
    /// </summary>
    public void Send(OutboxMessage row)
    {
        row = row with { CommittedAt = Stopwatch.GetTimestamp() };
        if (!_stopping.IsCancellationRequested && _slots.Wait(0))
        {
            Start(row);
            return;
        }
        // All slots busy (or stopping): the scan loop starts it when one frees up.
        _waiting.Enqueue(row);
        Wake();
    }

    /// <summary>Tells the dispatcher that rows may be due, so it does not wait for its next scan; wakes coalesce.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            _wake.Release();
        }
    }

    // A recording's first attempts leave in the order its changes committed — a short call's
    // in-progress callback is answered before its completed one starts — while other recordings'
    // callbacks go in parallel. (Retries may still come after a later event: at least once, not in order.)
    private readonly Dictionary<string, (long Seq, Task Delivery)> _latestByRecording = new(StringComparer.Ordinal);

    private void Start(OutboxMessage row)
    {
        lock (_latestByRecording)
        {
            var before = _latestByRecording.TryGetValue(row.RecordingSid, out var latest) ? latest.Delivery : Task.CompletedTask;
            var delivery = DeliverOwnedAsync(row, before);
            _latestByRecording[row.RecordingSid] = (row.Seq, delivery);
            _inFlight[row.Seq] = delivery;
        }

        async Task DeliverOwnedAsync(OutboxMessage owned, Task before)
        {
            try
            {
                await before.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                await DeliverAsync(owned, _stopping.Token);
            }
            finally
            {
                _slots.Release();
                _inFlight.TryRemove(owned.Seq, out _);
                lock (_latestByRecording)
                {
                    if (_latestByRecording.TryGetValue(owned.RecordingSid, out var latest) && latest.Seq == owned.Seq)
                    {
                        _latestByRecording.Remove(owned.RecordingSid);
                    }
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var link = stoppingToken.Register(_stopping.Cancel);
        _marking = Task.Run(MarkDeliveredAsync, CancellationToken.None);
        // Rows that found no free slot; then the scan: retries whose time has come and rows whose
        // lease ran out (another process died).
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Volatile.Write(ref _wakePending, 0);
                while (_waiting.TryPeek(out _))
                {
                    await _slots.WaitAsync(stoppingToken);
                    if (_waiting.TryDequeue(out var waiting))
                    {
                        Start(waiting);
                    }
                    else
                    {
                        _slots.Release();
                    }
                }
                foreach (var row in await ClaimDueAsync(stoppingToken))
                {
                    await _slots.WaitAsync(stoppingToken);
                    Start(row);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.OutboxScanFailed(e);
            }
            await _wake.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Stops claiming, then waits for deliveries under way: they finish or hand their rows back.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Deliveries under way (the callbacks of calls that shutdown has just ended, say) get a few
        // seconds to be answered before the rest are cancelled and handed back.
        await Task.WhenAll(_inFlight.Values).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        await base.StopAsync(cancellationToken);
        await Task.WhenAll(_inFlight.Values).WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        // Rows committed but not yet sent go back to the outbox at once, not at the end of their lease.
        var unsent = new List<long>();
        while (_waiting.TryDequeue(out var row))
        {
            unsent.Add(row.Seq);
        }
        if (unsent.Count > 0)
        {
            await outbox.ReleaseAsync(unsent, clock.GetUtcNow());
        }
        _delivered.Writer.TryComplete();
        if (_marking is not null)
        {
            await _marking.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    // One write marks every delivery that finished since the last one.
    private async Task MarkDeliveredAsync()
    {
        var batch = new List<long>();
        while (await _delivered.Reader.WaitToReadAsync())
        {
            while (batch.Count < 500 && _delivered.Reader.TryRead(out var seq))
            {
                batch.Add(seq);
            }
            try
            {
                await outbox.MarkDeliveredAsync(batch, clock.GetUtcNow());
                batch.Clear();
            }
            catch (Exception e)
            {
                // Kept for the next round; meanwhile the rows' leases keep them from being sent again.
                log.OutboxMarkFailed(e, batch.Count);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private async Task<string?> TokenAsync(string accountSid)
    {
        long now = Environment.TickCount64;
        if (_tokens.TryGetValue(accountSid, out var cached) && cached.Until > now)
        {
            return cached.Token;
        }
        var account = await accounts.FindAsync(accountSid);
        var token = account is null ? null : accounts.TokenOf(account);
        _tokens[accountSid] = (token, now + (long)TokenCacheFor.TotalMilliseconds);
        return token;
    }

    // One statement claims a batch: the rows it moves past the lease are this instance's.
    private Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return outbox.ClaimDueAsync(now, now + Lease, 64, cancellationToken);
    }

    /// <summary>Twilio's "HTTP retrieval failure": a webhook the receiver did not take.</summary>
    public const int DeliveryFailedCode = 11200;

    private async Task DeliverAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        string? error;
        bool refused = false;
        // Opened here and nowhere else: the row as stored holds a URL with credentials sealed.
        try
        {
            row = row with { Url = callbackUrls.Open(row.AccountSid, row.Url) };
        }
        catch (InvalidOperationException e)
        {
            log.CallbackUnsendable(row.RecordingSid, e.Message);
            await outbox.RetryLaterAsync(row.Seq, row.Attempts + 1, e.Message, GaveUp);
            return;
        }
        var clockStart = Stopwatch.GetTimestamp();
        var parameters = StatusCallback.Decode(row.Payload);
        var status = parameters.FirstOrDefault(p => p.Key == "RecordingStatus").Value ?? "?";
        try
        {
            var token = await TokenAsync(row.AccountSid);
            if (token is null)
            {
                error = "the account no longer exists";
            }
            else
            {
                using var request = Build(row, parameters, token);
                using var http = httpClients.CreateClient(nameof(CallbackDispatcher));
                if (row.Attempts == 0)
                {
                    metrics.CallbackQueueSeconds.Observe(clock.GetUtcNow() - row.DateCreated);
                    if (row.CommittedAt != 0)
                    {
                        metrics.CallbackDispatchSeconds.Observe(Stopwatch.GetElapsedTime(row.CommittedAt));
                    }
                }
                // Judged by its status alone: the body is never read.
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                int code = (int)response.StatusCode;
                error = response.IsSuccessStatusCode ? null
                    : code is >= 300 and < 400 ? $"HTTP {code}, a redirect{(response.Headers.Location is { } to ? " to " + CallbackUrl.Shown(to.IsAbsoluteUri ? to.ToString() : new Uri(request.RequestUri!, to).ToString()) : "")}, which the vault does not follow"
                    : $"HTTP {code}";
            }
        }
        catch (HttpRequestException e) when (e.InnerException is CallbackRefusedException refusal)
        {
            error = refusal.Message;
            refused = true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down mid-delivery: hand the row back at once rather than at the end of its lease.
            await outbox.ReleaseAsync([row.Seq], clock.GetUtcNow());
            return;
        }
        catch (Exception e)
        {
            // Whatever went wrong, the attempt is recorded and the row retried: never left leased.
            error = e is TaskCanceledException ? "timed out" : e.InnerException is { } inner and not HttpRequestException ? $"{e.Message} ({inner.Message})" : e.Message;
        }
        metrics.CallbackDeliveries.Add(1, error is null ? "delivered" : "failed");
        if (error is null)
        {
            _delivered.Writer.TryWrite(row.Seq);
            log.CallbackDelivered(status, row.RecordingSid, Stopwatch.GetElapsedTime(clockStart).TotalMilliseconds, row.Attempts + 1);
            return;
        }
        var now = clock.GetUtcNow();
        var attempts = row.Attempts + 1;
        var delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstRetry.Ticks * (1L << (int)Math.Min(attempts - 1, 20))));
        // A refused address stays refused: no retry. Anything else is retried for 24 hours.
        bool giveUp = refused || now - row.DateCreated > GiveUpAfter;
        await outbox.RetryLaterAsync(row.Seq, attempts, error, giveUp ? GaveUp : now + delay);
        var next = refused ? "not retried" : giveUp ? "giving up after 24 h" : $"retrying in {delay.TotalSeconds:0.#} s";
        log.CallbackFailed(row.RecordingSid, SafeHost(row.Url), error, attempts, next);
        // The account hears of it in its debugger: at the first failure (while retries go on) and when
        // the vault stops trying. The URL is shown without credentials or query.
        if (attempts == 1 || giveUp)
        {
            var callSid = parameters.FirstOrDefault(p => p.Key == "CallSid").Value;
            var message = $"The {status} status callback of recording {row.RecordingSid} to {CallbackUrl.Shown(row.Url)} ({row.Method}) failed: {error}; {next}.";
            await database.WriteAsync(scope => notifications.AddAsync(scope, Sid.New("NO"),
                new NewNotification(row.AccountSid, callSid, DeliveryFailedCode, giveUp ? NotificationLevel.Error : NotificationLevel.Warning, message), now));
        }
    }

    private static HttpRequestMessage Build(OutboxMessage row, List<KeyValuePair<string, string>> parameters, string token)
    {
        // Credentials in the URL become Basic auth; the URL requested and signed is the one the
        // receiver sees on its request line, without them.
        var given = new Uri(row.Url);
        var target = CallbackUrl.WithoutCredentials(row.Url);
        HttpRequestMessage request;
        string signature;
        if (row.Method.Equals("GET", StringComparison.OrdinalIgnoreCase))
        {
            var url = target + (target.Contains('?', StringComparison.Ordinal) ? "&" : "?") + StatusCallback.Encode(parameters);
            request = new HttpRequestMessage(HttpMethod.Get, url);
            signature = TwilioSignature.Sign(token, url, []);
        }
        else
        {
            request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new FormUrlEncodedContent(parameters) };
            signature = TwilioSignature.Sign(token, target, parameters);
        }
        request.Headers.Authorization = CallbackUrl.Credentials(given);
        request.Headers.Add("X-Twilio-Signature", signature);
        request.Headers.UserAgent.ParseAdd("VoiceVault/0.1");
        return request;
    }

    private static string SafeHost(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host + ":" + uri.Port : "(invalid url)";
}
