using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace VoiceVault.Server.Storage;

/// <summary>The embedded default: one SQLite file in the data folder, in WAL mode.</summary>
public sealed class SqliteVaultDatabase : IVaultDatabase
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    public SqliteVaultDatabase(VaultOptions options)
    {
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
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // WAL with synchronous=NORMAL: a commit is durable once the WAL is synced at checkpoint; a
        // power cut can lose the last transactions but never corrupts the database.
        await connection.ExecuteAsync("PRAGMA synchronous=NORMAL;");
        return connection;
    }

    public async Task<IAsyncDisposable> WriterAsync(CancellationToken cancellationToken = default)
    {
        await _writer.WaitAsync(cancellationToken);
        return new Release(_writer);
    }

    private sealed class Release(SemaphoreSlim gate) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
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
