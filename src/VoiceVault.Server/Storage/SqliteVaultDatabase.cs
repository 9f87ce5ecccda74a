using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Storage;

/// <summary>
/// The embedded default: one SQLite file in the data folder, in WAL mode. Commits never checkpoint:
/// a background timer does, on its own connection, so that the checkpoint's fsync (slow while media
/// is being written) does not hold up the one writer.
/// </summary>
public sealed class SqliteVaultDatabase : IVaultDatabase, IDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly Timer _checkpoints;
    private int _checkpointing;

    private readonly VaultMetrics.Histogram _waits;
    private readonly VaultMetrics.Histogram _holds;

    public SqliteVaultDatabase(VaultOptions options, VaultMetrics metrics)
    {
        double[] bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
        _waits = metrics.Add(new VaultMetrics.Histogram("voicevault_db_writer_wait_seconds", "Time spent waiting for the database's single writer.", bounds));
        _holds = metrics.Add(new VaultMetrics.Histogram("voicevault_db_writer_hold_seconds", "Time the single writer was held per write.", bounds));
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(options.DataDir, "vault.db"),
            Pooling = true,
            DefaultTimeout = 30,
            ForeignKeys = true,
        }.ToString();
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        connection.Execute("PRAGMA journal_mode=WAL;");
        connection.Execute(Schema);
        _checkpoints = new Timer(_ => Checkpoint(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private void Checkpoint()
    {
        if (Interlocked.Exchange(ref _checkpointing, 1) == 1)
        {
            return;
        }
        try
        {
            using var connection = new SqliteConnection(_connectionString);
            connection.Open();
            connection.Execute("PRAGMA wal_checkpoint(PASSIVE);");
        }
        catch (SqliteException)
        {
            // Busy or shutting down: the next tick checkpoints what this one could not.
        }
        finally
        {
            Volatile.Write(ref _checkpointing, 0);
        }
    }

    public void Dispose()
    {
        _checkpoints.Dispose();
        Checkpoint();
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // WAL with synchronous=NORMAL: a commit is durable once the WAL is synced at checkpoint; a
        // power cut can lose the last transactions but never corrupts the database.
        await connection.ExecuteAsync("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;");
        return connection;
    }

    public async Task<IAsyncDisposable> WriterAsync(CancellationToken cancellationToken = default)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        await _writer.WaitAsync(cancellationToken);
        _waits.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(start));
        return new Release(_writer, _holds);
    }

    private sealed class Release(SemaphoreSlim gate, VaultMetrics.Histogram holds) : IAsyncDisposable
    {
        private readonly long _since = System.Diagnostics.Stopwatch.GetTimestamp();
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                holds.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(_since));
                gate.Release();
            }
            return ValueTask.CompletedTask;
        }
    }

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS accounts (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            sid TEXT NOT NULL UNIQUE,
            parent_sid TEXT NULL REFERENCES accounts(sid),
            friendly_name TEXT NOT NULL,
            status TEXT NOT NULL,
            token_sealed BLOB NOT NULL,
            date_created TEXT NOT NULL,
            date_updated TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS api_keys (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            sid TEXT NOT NULL UNIQUE,
            account_sid TEXT NOT NULL REFERENCES accounts(sid),
            friendly_name TEXT NOT NULL,
            secret_sealed BLOB NOT NULL,
            date_created TEXT NOT NULL,
            date_updated TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS public_keys (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            sid TEXT NOT NULL UNIQUE,
            account_sid TEXT NOT NULL REFERENCES accounts(sid),
            friendly_name TEXT NOT NULL,
            spki BLOB NOT NULL,
            fingerprint TEXT NOT NULL,
            date_created TEXT NOT NULL,
            date_updated TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS public_keys_account ON public_keys(account_sid, seq);
        CREATE TABLE IF NOT EXISTS recordings (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            sid TEXT NOT NULL UNIQUE,
            account_sid TEXT NOT NULL REFERENCES accounts(sid),
            call_sid TEXT NOT NULL,
            status TEXT NOT NULL,
            error_code INTEGER NULL,
            channels INTEGER NOT NULL,
            source TEXT NOT NULL,
            track TEXT NOT NULL,
            start_time TEXT NOT NULL,
            duration INTEGER NULL,
            media_key TEXT NULL,
            media_size INTEGER NULL,
            key_mode TEXT NULL,
            public_key_sid TEXT NULL,
            encrypted_cek BLOB NULL,
            iv BLOB NULL,
            server_cek_sealed BLOB NULL,
            callback_url TEXT NULL,
            callback_method TEXT NOT NULL,
            callback_events TEXT NOT NULL,
            date_created TEXT NOT NULL,
            date_updated TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS recordings_account ON recordings(account_sid, seq);
        CREATE INDEX IF NOT EXISTS recordings_call ON recordings(account_sid, call_sid, seq);
        CREATE TABLE IF NOT EXISTS notifications (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            sid TEXT NOT NULL UNIQUE,
            account_sid TEXT NOT NULL REFERENCES accounts(sid),
            call_sid TEXT NULL,
            error_code INTEGER NOT NULL,
            log INTEGER NOT NULL,
            message_text TEXT NOT NULL,
            request_method TEXT NULL,
            request_url TEXT NULL,
            date_created TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS notifications_account ON notifications(account_sid, seq);
        CREATE TABLE IF NOT EXISTS outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            account_sid TEXT NOT NULL,
            recording_sid TEXT NOT NULL,
            url TEXT NOT NULL,
            method TEXT NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            delivered_at TEXT NULL,
            last_error TEXT NULL,
            date_created TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox(delivered_at, next_attempt_at);
        CREATE TABLE IF NOT EXISTS encryption_settings (
            account_sid TEXT PRIMARY KEY REFERENCES accounts(sid),
            enabled INTEGER NOT NULL,
            public_key_sid TEXT NULL,
            date_updated TEXT NOT NULL);
        """;
}
