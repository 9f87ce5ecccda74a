using System.Collections.Concurrent;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Core;

/// <summary>
/// <c>auth.failed</c> (docs/audit.md): failed authentications are counted, not recorded one by
/// one, so a password spray cannot fill the database. Each instance counts in memory per window
/// (a minute), credential SID and client address (IPv6 by its /64); once a window has closed it
/// adds its counts to a table every instance shares, and a window closed for a whole window more
/// is turned into events by whichever instance takes it first — one per credential and address,
/// at most <see cref="MaxEventsPerAccount"/> per account and window (the smallest counts beyond
/// that are summed into the last). A SID that names no account or API key joins no chain.
/// </summary>
public sealed class FailedAuthentications(AuditTrail audit, IAccountStore accounts, IVaultDatabase database, TimeProvider clock, VaultOptions options,
    ILogger<FailedAuthentications> log) : BackgroundService
{
    public const int MaxEventsPerAccount = 60;

    // Distinct (window, credential, address) counted here before the next flush; beyond it, a
    // credential's further addresses are counted together under "*" (memory stays bounded).
    private const int MaxCounted = 10_000;
    private const string OtherAddresses = "*";

    private readonly TimeSpan _window = TimeSpan.FromSeconds(options.Audit.FailedAuthenticationSeconds);
    private readonly ConcurrentDictionary<(long Window, string Sid, string Address), long> _counts = new();

    /// <summary>Counts one failed authentication that named <paramref name="sid"/> from <paramref name="address"/>; other user names are not counted.</summary>
    public void Count(string? sid, string address)
    {
        if (sid is null || !(Sid.Is(sid, "AC") || Sid.Is(sid, "SK")))
        {
            return;
        }
        long window = WindowOf(clock.GetUtcNow());
        var key = (window, sid, address);
        if (!_counts.ContainsKey(key) && _counts.Count >= MaxCounted)
        {
            key = (window, sid, OtherAddresses);
        }
        _counts.AddOrUpdate(key, 1, (_, n) => n + 1);
    }

    private long WindowOf(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / (long)_window.TotalMilliseconds;

    private DateTimeOffset StartOf(long window) => DateTimeOffset.FromUnixTimeMilliseconds(window * (long)_window.TotalMilliseconds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            // Just after each window ends.
            var next = StartOf(WindowOf(now) + 1) + TimeSpan.FromMilliseconds(Math.Min(500, _window.TotalMilliseconds / 10));
            try
            {
                await Task.Delay(next - now, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await RunOnceAsync(closedOnly: true);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // What this instance counted goes to the shared table, the open window too: another instance (or the next start) writes it.
        await RunOnceAsync(closedOnly: false);
    }

    /// <summary>Adds this instance's counts to the shared table, then writes the events of the windows every instance has had time to add to.</summary>
    public async Task RunOnceAsync(bool closedOnly = true)
    {
        try
        {
            await FlushAsync(closedOnly);
            await WriteEventsAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Counts not flushed stay in memory for the next round; taken ones roll back with the failed transaction.
            log.FailedAuthenticationsNotRecorded(e.Message);
        }
    }

    private async Task FlushAsync(bool closedOnly)
    {
        long current = WindowOf(clock.GetUtcNow());
        var taken = new List<((long Window, string Sid, string Address) Key, long Count)>();
        foreach (var key in _counts.Keys)
        {
            if ((!closedOnly || key.Window < current) && _counts.TryRemove(key, out var n))
            {
                taken.Add((key, n));
            }
        }
        if (taken.Count == 0)
        {
            return;
        }
        var owners = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var sid in taken.Select(t => t.Key.Sid).Distinct())
        {
            owners[sid] = sid.StartsWith("AC", StringComparison.Ordinal)
                ? (await accounts.FindAsync(sid))?.Sid
                : (await accounts.FindApiKeySecretAsync(sid))?.AccountSid;
        }
        var counts = taken.Where(t => owners[t.Key.Sid] is not null)
            .Select(t => new FailureCount(StartOf(t.Key.Window), owners[t.Key.Sid]!, t.Key.Sid, t.Key.Address, t.Count)).ToList();
        try
        {
            await database.WriteAsync(scope => audit.Store.AddFailuresAsync(scope, counts));
        }
        catch
        {
            foreach (var (key, n) in taken)
            {
                _counts.AddOrUpdate(key, n, (_, m) => m + n);
            }
            throw;
        }
    }

    private async Task WriteEventsAsync()
    {
        // A window is written once every instance has flushed it: one whole window after it closed.
        var before = StartOf(WindowOf(clock.GetUtcNow()) - 1);
        await database.WriteAsync(async scope =>
        {
            var taken = await audit.Store.TakeFailuresAsync(scope, before);
            foreach (var e in EventsOf(taken, _window))
            {
                await audit.AppendAsync(scope, e);
            }
            return taken.Count;
        });
    }

    /// <summary>
    /// The events of counts taken from the shared table: per account and window, one per
    /// credential and address, the largest counts first; beyond <see cref="MaxEventsPerAccount"/>,
    /// the last one sums the rest.
    /// </summary>
    public static IReadOnlyList<NewAuditEvent> EventsOf(IReadOnlyList<FailureCount> taken, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(taken);
        var events = new List<NewAuditEvent>();
        foreach (var group in taken.GroupBy(c => (c.AccountSid, c.WindowStart)).OrderBy(g => g.Key.WindowStart).ThenBy(g => g.Key.AccountSid, StringComparer.Ordinal))
        {
            var ordered = group.OrderByDescending(c => c.Count).ThenBy(c => c.CredentialSid, StringComparer.Ordinal).ThenBy(c => c.Address, StringComparer.Ordinal).ToList();
            var own = ordered.Count <= MaxEventsPerAccount ? ordered : ordered[..(MaxEventsPerAccount - 1)];
            events.AddRange(own.Select(c => Audited.AuthenticationFailed(c, window)));
            if (ordered.Count > own.Count)
            {
                events.Add(Audited.AuthenticationsFailed(group.Key.AccountSid, ordered[own.Count..], window));
            }
        }
        return events;
    }
}
