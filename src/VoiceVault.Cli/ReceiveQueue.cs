using Microsoft.Data.Sqlite;

namespace VoiceVault.Cli;

/// <summary>
/// The receiver's durable queue: one row per RecordingSid in SQLite (WAL, its own folder), written
/// before a callback is answered, so a crash or an outage of the source loses nothing and a
/// repeated callback adds nothing (idempotent per recording).
/// </summary>
internal sealed class ReceiveQueue : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();

    public sealed record Job(string RecordingSid, string AccountSid, int Attempts);

    public ReceiveQueue(string directory)
    {
        Directory.CreateDirectory(directory);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "queue.db"), Pooling = false }.ToString());
        _db.Open();
        Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS jobs (
                recording_sid TEXT PRIMARY KEY,
                account_sid TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                last_error TEXT NULL,
                received_at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, next_attempt_at);
            """);
    }

    /// <summary>Queues a recording; false when it was queued (or done) already.</summary>
    public bool Enqueue(string recordingSid, string accountSid)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return Execute("INSERT OR IGNORE INTO jobs (recording_sid, account_sid, next_attempt_at, received_at) VALUES ($sid, $account, $now, $now)",
            ("$sid", recordingSid), ("$account", accountSid), ("$now", now)) == 1;
    }

    /// <summary>Pending jobs that are due, oldest first.</summary>
    public List<Job> Due(int limit)
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "SELECT recording_sid, account_sid, attempts FROM jobs WHERE state = 'pending' AND next_attempt_at <= $now ORDER BY received_at LIMIT $limit";
            command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            var jobs = new List<Job>();
            while (reader.Read())
            {
                jobs.Add(new Job(reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
            }
            return jobs;
        }
    }

    /// <summary>When the next pending job falls due, if any is pending.</summary>
    public DateTimeOffset? NextDue()
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "SELECT MIN(next_attempt_at) FROM jobs WHERE state = 'pending'";
            return command.ExecuteScalar() is long at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;
        }
    }

    public void Done(string recordingSid, string state) =>
        Execute("UPDATE jobs SET state = $state, last_error = NULL WHERE recording_sid = $sid", ("$sid", recordingSid), ("$state", state));

    public void Retry(string recordingSid, int attempts, DateTimeOffset at, string error, bool giveUp) =>
        Execute("UPDATE jobs SET attempts = $attempts, next_attempt_at = $at, last_error = $error, state = $state WHERE recording_sid = $sid",
            ("$sid", recordingSid), ("$attempts", attempts), ("$at", at.ToUnixTimeMilliseconds()), ("$error", error), ("$state", giveUp ? "failed" : "pending"));

    public (long Pending, long Done, long Failed) Counts()
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'done'), 0), COALESCE(SUM(state = 'failed'), 0) FROM jobs";
            using var reader = command.ExecuteReader();
            reader.Read();
            return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }
    }

    private int Execute(string sql, params (string Name, object Value)[] parameters)
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }
            return command.ExecuteNonQuery();
        }
    }

    public void Dispose() => _db.Dispose();
}
