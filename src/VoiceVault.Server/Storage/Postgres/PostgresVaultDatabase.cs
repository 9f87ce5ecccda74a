using VoiceVault.Server.Core;
using System.Data.Common;
using Npgsql;
using VoiceVault.Server.Storage.Sql;

namespace VoiceVault.Server.Storage.Postgres;

/// <summary>
/// PostgreSQL (<c>VoiceVault:Database=postgres</c>): a pooled data source and one transaction per
/// unit of work. Unlike SQLite, PostgreSQL takes many writers at once, so units commit on their own
/// connections in parallel rather than queueing to one writer; claims skip rows another instance
/// holds (FOR UPDATE SKIP LOCKED).
/// </summary>
public sealed class PostgresVaultDatabase : IVaultDatabase, IAsyncDisposable, IDisposable
{
    // Any constant: the key of the advisory lock that serializes migrations across instances.
    private const long MigrationLock = 0x566F_6963_6556_6175;
    private readonly NpgsqlDataSource _source;

    public PostgresVaultDatabase(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new StartupException("VoiceVault:Database is postgres but ConnectionStrings:VoiceVault is empty",
                "set it to an Npgsql connection string, e.g. Host=db;Username=voicevault;Password=…;Database=voicevault");
        }
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= "VoiceVault";
        // The pool's name labels Npgsql's metrics; without one it would be the connection string
        // (host, user, database — never the password) on the unauthenticated /metrics.
        builder.Name = "voicevault";
        // The vault never changes session state (no SET, no temporary tables, no LISTEN), so a
        // pooled connection needs no DISCARD ALL when it is returned (one statement less per open),
        // and the statements every upload runs are prepared once per connection instead of parsed
        // and planned each time. Both measured in bench/ingest.sh; either can be set in the
        // connection string.
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }
        _source = builder.Build();
    }

    public string Name => "postgres";

    public string SkipLocked => " FOR UPDATE SKIP LOCKED";

    public bool GroupsCommits => false;

    public string ForUpdate => " FOR UPDATE";

    public async Task<IReadOnlyList<int>> MigrateAsync()
    {
        await using var db = await _source.OpenConnectionAsync();
        return await Migrations.ApplyAsync(db, async c =>
        {
            var tx = await ((NpgsqlConnection)c).BeginTransactionAsync();
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLock})", (NpgsqlConnection)c, tx))
            {
                await lockCommand.ExecuteNonQueryAsync();
            }
            return tx;
        }, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)",
            Migrations.Of(Name), DateTimeOffset.UtcNow, Name);
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default) => await _source.OpenConnectionAsync(cancellationToken);

    public async Task<T> WriteAsync<T>(Func<WriteScope, Task<T>> work, Action<T>? committed = null, CancellationToken cancellationToken = default)
    {
        T value;
        await using (var db = await _source.OpenConnectionAsync(cancellationToken))
        {
            await using var tx = await db.BeginTransactionAsync(cancellationToken);
            value = await work(new WriteScope(db, tx));
            await tx.CommitAsync(cancellationToken);
        }
        committed?.Invoke(value);
        return value;
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    public void Dispose() => _source.Dispose();
}
