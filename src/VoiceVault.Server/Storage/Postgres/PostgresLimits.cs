using System.Data.Common;
using VoiceVault.Server.Core;
using VoiceVault.Server.Storage.Sql;

namespace VoiceVault.Server.Storage.Postgres;

/// <summary>
/// The limiter's counts in PostgreSQL, shared by every instance (migration 0007): N instances behind
/// a balancer refuse after exactly as many failed authentications as one, and an account's upload
/// and stream caps hold across all of them. A bucket is one row updated in one statement (token
/// bucket arithmetic on the database's clock, so instances whose clocks differ agree); a slot is a
/// row taken under a transaction-scoped advisory lock on its key and counted only while the
/// instance holding it keeps its heartbeat (a crashed instance's slots free themselves). Only
/// failures, sign-ins from a new address, and slot changes write; the common request only reads,
/// and the authentication throttle in front of this skips even that for credentials it has verified.
/// </summary>
public sealed class PostgresLimits(IVaultDatabase database, VaultOptions options, TimeProvider clock) : ILimitStore, IHostedService
{
    private long _nextSweep;

    public async Task<double[]> SpendAsync(IReadOnlyList<(string Key, BucketShape Shape)> buckets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        await using var db = await database.OpenAsync(cancellationToken);
        await SweepAsync(db, cancellationToken);
        var left = new double[buckets.Count];
        for (int i = 0; i < buckets.Count; i++)
        {
            var (key, shape) = buckets[i];
            // Never below -1: a burst of racing failures cannot push a bucket into a long debt.
            left[i] = await SqlRows.ScalarAsync<double>(db, """
                INSERT INTO limit_buckets AS b (key, tokens, at, refills_in) VALUES (@key, @burst - 1, now(), @refill * (@burst + 1))
                ON CONFLICT (key) DO UPDATE SET
                    tokens = GREATEST(LEAST(@burst, b.tokens + EXTRACT(EPOCH FROM now() - b.at)::float8 / EXTRACT(EPOCH FROM @refill)::float8) - 1, -1),
                    at = now(),
                    refills_in = EXCLUDED.refills_in
                RETURNING tokens
                """, new { key, burst = (double)shape.Burst, refill = shape.Refill }, cancellationToken: cancellationToken);
        }
        return left;
    }

    public async Task<double[]> TokensAsync(IReadOnlyList<(string Key, BucketShape Shape)> buckets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        await using var db = await database.OpenAsync(cancellationToken);
        var parameters = new Dictionary<string, object?>();
        var rows = await SqlRows.ListAsync(db, $"SELECT key, tokens, EXTRACT(EPOCH FROM now() - at)::float8 AS elapsed FROM limit_buckets WHERE key IN {SqlRows.In(parameters, "key", buckets.Select(b => b.Key))}",
            parameters, row => (Key: row.Text("key"), Tokens: row.GetDouble(1), Elapsed: row.GetDouble(2)), cancellationToken: cancellationToken);
        var held = rows.ToDictionary(r => r.Key, r => (r.Tokens, r.Elapsed), StringComparer.Ordinal);
        return buckets.Select(b => held.TryGetValue(b.Key, out var h) ? b.Shape.After(h.Tokens, TimeSpan.FromSeconds(h.Elapsed)) : b.Shape.Burst).ToArray();
    }

    public async Task RememberAsync(string key, TimeSpan period, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        await SqlRows.ExecuteAsync(db, """
            INSERT INTO limit_remembered (key, until) VALUES (@key, now() + @period)
            ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until
            """, new { key, period }, cancellationToken: cancellationToken);
    }

    public async Task<bool> RememberedAsync(string key, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.ScalarAsync<bool>(db, "SELECT EXISTS (SELECT 1 FROM limit_remembered WHERE key = @key AND until > now())", new { key },
            cancellationToken: cancellationToken);
    }

    public async Task<IAsyncDisposable?> TryHoldAsync(string key, int slots, CancellationToken cancellationToken = default)
    {
        var holder = Guid.NewGuid().ToString("N");
        bool taken = false;
        await database.WriteAsync(async scope =>
        {
            // One taker of this key's slots at a time, on every instance: the count and the insert cannot interleave.
            await SqlRows.ExecuteAsync(scope.Connection, "SELECT pg_advisory_xact_lock(hashtextextended(@key, 7))", new { key }, scope.Transaction, cancellationToken);
            taken = await SqlRows.ExecuteAsync(scope.Connection, """
                INSERT INTO limit_slots (holder, key, instance)
                SELECT @holder, @key, @instance
                WHERE (SELECT COUNT(*) FROM limit_slots s JOIN instances i ON i.id = s.instance
                       WHERE s.key = @key AND i.heartbeat_at >= @alive) < @slots
                """, new { holder, key, instance = options.InstanceId, alive = Alive(), slots = (long)slots }, scope.Transaction, cancellationToken) == 1;
        }, cancellationToken);
        return taken ? new Slot(this, holder) : null;
    }

    /// <summary>At start: the slots this instance held before it restarted were given back when it stopped.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        await SqlRows.ExecuteAsync(db, "DELETE FROM limit_slots WHERE instance = @instance", new { instance = options.InstanceId }, cancellationToken: cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private DateTimeOffset Alive() => clock.GetUtcNow() - TimeSpan.FromSeconds(options.InstanceLeaseSeconds);

    private async Task ReleaseAsync(string holder)
    {
        await using var db = await database.OpenAsync();
        await SqlRows.ExecuteAsync(db, "DELETE FROM limit_slots WHERE holder = @holder", new { holder });
    }

    // Once a minute, on the way: buckets that have filled up again, periods that ran out, slots of
    // instances that died. What is left is only what limits somebody now.
    private async Task SweepAsync(DbConnection db, CancellationToken cancellationToken)
    {
        long now = Environment.TickCount64;
        long due = Interlocked.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + 60_000, due) != due)
        {
            return;
        }
        await SqlRows.ExecuteAsync(db, """
            DELETE FROM limit_buckets WHERE at + refills_in < now();
            DELETE FROM limit_remembered WHERE until < now();
            DELETE FROM limit_slots s WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = s.instance AND i.heartbeat_at >= @alive);
            """, new { alive = Alive() }, cancellationToken: cancellationToken);
    }

    private sealed class Slot(PostgresLimits limits, string holder) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                await limits.ReleaseAsync(holder);
            }
        }
    }
}
