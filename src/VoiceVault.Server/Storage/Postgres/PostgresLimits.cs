using System.Data.Common;
using Npgsql;
using VoiceVault.Server.Core;

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
            await using var spend = Command(db, """
                INSERT INTO limit_buckets AS b (key, tokens, at, refills_in) VALUES (@key, @burst - 1, now(), @refill * (@burst + 1))
                ON CONFLICT (key) DO UPDATE SET
                    tokens = GREATEST(LEAST(@burst, b.tokens + EXTRACT(EPOCH FROM now() - b.at)::float8 / EXTRACT(EPOCH FROM @refill)::float8) - 1, -1),
                    at = now(),
                    refills_in = EXCLUDED.refills_in
                RETURNING tokens
                """, ("key", key), ("burst", (double)shape.Burst), ("refill", shape.Refill));
            left[i] = (double)(await spend.ExecuteScalarAsync(cancellationToken))!;
        }
        return left;
    }

    public async Task<double[]> TokensAsync(IReadOnlyList<(string Key, BucketShape Shape)> buckets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        await using var db = await database.OpenAsync(cancellationToken);
        await using var read = Command(db, "SELECT key, tokens, EXTRACT(EPOCH FROM now() - at)::float8 FROM limit_buckets WHERE key = ANY(@keys)",
            ("keys", buckets.Select(b => b.Key).ToArray()));
        var held = new Dictionary<string, (double Tokens, double Elapsed)>(StringComparer.Ordinal);
        await using (var rows = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await rows.ReadAsync(cancellationToken))
            {
                held[rows.GetString(0)] = (rows.GetDouble(1), rows.GetDouble(2));
            }
        }
        return buckets.Select(b => held.TryGetValue(b.Key, out var h) ? b.Shape.After(h.Tokens, TimeSpan.FromSeconds(h.Elapsed)) : b.Shape.Burst).ToArray();
    }

    public async Task RememberAsync(string key, TimeSpan period, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        await using var remember = Command(db, """
            INSERT INTO limit_remembered (key, until) VALUES (@key, now() + @period)
            ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until
            """, ("key", key), ("period", period));
        await remember.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> RememberedAsync(string key, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        await using var read = Command(db, "SELECT EXISTS (SELECT 1 FROM limit_remembered WHERE key = @key AND until > now())", ("key", key));
        return (bool)(await read.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IAsyncDisposable?> TryHoldAsync(string key, int slots, CancellationToken cancellationToken = default)
    {
        var holder = Guid.NewGuid().ToString("N");
        bool taken = false;
        await database.WriteAsync(async scope =>
        {
            var db = scope.Connection;
            // One taker of this key's slots at a time, on every instance: the count and the insert cannot interleave.
            await using (var lockKey = Command(db, "SELECT pg_advisory_xact_lock(hashtextextended(@key, 7))", ("key", key)))
            {
                lockKey.Transaction = scope.Transaction;
                await lockKey.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var take = Command(db, """
                INSERT INTO limit_slots (holder, key, instance)
                SELECT @holder, @key, @instance
                WHERE (SELECT COUNT(*) FROM limit_slots s JOIN instances i ON i.id = s.instance
                       WHERE s.key = @key AND i.heartbeat_at >= @alive) < @slots
                """, ("holder", holder), ("key", key), ("instance", options.InstanceId), ("alive", Alive()), ("slots", (long)slots));
            take.Transaction = scope.Transaction;
            taken = await take.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);
        return taken ? new Slot(this, holder) : null;
    }

    /// <summary>At start: the slots this instance held before it restarted were given back when it stopped.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        await using var forget = Command(db, "DELETE FROM limit_slots WHERE instance = @instance", ("instance", options.InstanceId));
        await forget.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private DateTimeOffset Alive() => clock.GetUtcNow() - TimeSpan.FromSeconds(options.InstanceLeaseSeconds);

    private async Task ReleaseAsync(string holder)
    {
        await using var db = await database.OpenAsync();
        await using var release = Command(db, "DELETE FROM limit_slots WHERE holder = @holder", ("holder", holder));
        await release.ExecuteNonQueryAsync();
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
        await using var sweep = Command(db, """
            DELETE FROM limit_buckets WHERE at + refills_in < now();
            DELETE FROM limit_remembered WHERE until < now();
            DELETE FROM limit_slots s WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = s.instance AND i.heartbeat_at >= @alive);
            """, ("alive", Alive()));
        await sweep.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DbCommand Command(DbConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        var command = (NpgsqlCommand)db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
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
