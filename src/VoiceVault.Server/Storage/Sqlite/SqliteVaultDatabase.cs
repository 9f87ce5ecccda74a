using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using VoiceVault.Server.Operations;
using VoiceVault.Server.Storage.Sql;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sqlite;

/// <summary>
/// The embedded default: one SQLite file in the data folder, in WAL mode. SQLite has one writer at
/// a time, so writes are not raced for: units of work queue to a single writer thread that commits
/// all the units waiting together in one transaction (group commit), each inside its own savepoint.
/// A commit never checkpoints: a background timer does, on its own connection, so that the
/// checkpoint's fsync (slow while media is being written) does not hold up the writer.
/// </summary>
public sealed class SqliteVaultDatabase : IVaultDatabase, IDisposable
{
    private const int MaxBatch = 256;
    private readonly string _connectionString;
    private readonly System.Collections.Concurrent.BlockingCollection<Unit> _queue = [];
    private readonly Thread _writer;
    private readonly Timer _checkpoints;
    private int _checkpointing;
    private readonly VaultMetrics.Histogram _waits;
    private readonly VaultMetrics.Histogram _commits;
    private readonly VaultMetrics.Histogram _batches;

    public SqliteVaultDatabase(VaultOptions options, VaultMetrics metrics)
    {
        _waits = metrics.WriteWaitSeconds;
        _commits = metrics.CommitSeconds;
        _batches = metrics.CommitUnits;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(options.DataDir, "vault.db"),
            Pooling = true,
            DefaultTimeout = 30,
            ForeignKeys = true,
        }.ToString();
        using (var connection = new SqliteConnection(_connectionString))
        {
            connection.Open();
            connection.Execute("PRAGMA journal_mode=WAL;");
        }
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "VoiceVault SQLite writer" };
        _writer.Start();
        _checkpoints = new Timer(_ => Checkpoint(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public string Name => "sqlite";

    public string SkipLocked => "";

    public bool GroupsCommits => true;

    public string ForUpdate => "";

    /// <summary>Brings the schema to this server's version (see <see cref="Migrations"/>); returns the versions applied.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync()
    {
        await using var db = (SqliteConnection)await OpenAsync();
        // BEGIN IMMEDIATE: the write lock first, so two instances starting together migrate once.
        return await Migrations.ApplyAsync(db, c => Task.FromResult<DbTransaction>(((SqliteConnection)c).BeginTransaction(deferred: false)),
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            Migrations.Of(Name), DateTimeOffset.UtcNow, Name);
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

    public Task<T> WriteAsync<T>(Func<WriteScope, Task<T>> work, Action<T>? committed = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var unit = new Unit<T>(work, committed, cancellationToken);
        try
        {
            _queue.Add(unit, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(SqliteVaultDatabase), "The database is closed.");
        }
        return unit.Result.Task;
    }

    private void WriteLoop()
    {
        using var db = (SqliteConnection)OpenAsync().GetAwaiter().GetResult();
        var batch = new List<Unit>(MaxBatch);
        foreach (var first in _queue.GetConsumingEnumerable())
        {
            batch.Add(first);
            while (batch.Count < MaxBatch && _queue.TryTake(out var more))
            {
                batch.Add(more);
            }
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            foreach (var unit in batch)
            {
                _waits.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(unit.Queued, start));
            }
            Commit(db, batch);
            _commits.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(start));
            _batches.Observe(batch.Count);
            batch.Clear();
        }
    }

    // One transaction for the batch; a savepoint per unit, so a failing unit takes back only its own statements.
    private static void Commit(SqliteConnection db, List<Unit> batch)
    {
        SqliteTransaction tx;
        try
        {
            tx = db.BeginTransaction();
        }
        catch (Exception e)
        {
            batch.ForEach(u => u.Fail(e));
            return;
        }
        var done = new List<Unit>(batch.Count);
        using var savepoint = new SqliteCommand("SAVEPOINT unit", db, tx);
        using var release = new SqliteCommand("RELEASE unit", db, tx);
        using var rollback = new SqliteCommand("ROLLBACK TO unit; RELEASE unit;", db, tx);
        using (tx)
        {
            foreach (var unit in batch)
            {
                if (unit.Cancelled)
                {
                    unit.Cancel();
                    continue;
                }
                savepoint.ExecuteNonQuery();
                try
                {
                    unit.Run(db, tx);
                    release.ExecuteNonQuery();
                    done.Add(unit);
                }
                catch (Exception e)
                {
                    rollback.ExecuteNonQuery();
                    unit.Fail(e);
                }
            }
            try
            {
                tx.Commit();
            }
            catch (Exception e)
            {
                done.ForEach(u => u.Fail(e));
                return;
            }
        }
        done.ForEach(u => u.Succeed());
    }

    private abstract class Unit
    {
        public long Queued { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

        public abstract bool Cancelled { get; }

        public abstract void Run(SqliteConnection db, SqliteTransaction tx);

        public abstract void Succeed();

        public abstract void Fail(Exception e);

        public abstract void Cancel();
    }

    private sealed class Unit<T>(Func<WriteScope, Task<T>> work, Action<T>? committed, CancellationToken cancellationToken) : Unit
    {
        private T? _value;

        public TaskCompletionSource<T> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool Cancelled => cancellationToken.IsCancellationRequested;

        // Microsoft.Data.Sqlite completes its async methods synchronously: this does not block on I/O of its own.
        public override void Run(SqliteConnection db, SqliteTransaction tx) => _value = work(new WriteScope(db, tx)).GetAwaiter().GetResult();

        public override void Succeed()
        {
            try
            {
                committed?.Invoke(_value!);
            }
            finally
            {
                Result.TrySetResult(_value!);
            }
        }

        public override void Fail(Exception e) => Result.TrySetException(e);

        public override void Cancel() => Result.TrySetCanceled(cancellationToken);
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

    /// <summary>Commits what is queued, stops the writer and checkpoints.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _writer.Join();
        _checkpoints.Dispose();
        Checkpoint();
    }
}
