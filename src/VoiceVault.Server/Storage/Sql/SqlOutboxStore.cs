using System.Data.Common;
using Dapper;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

public sealed class SqlOutboxStore(IVaultDatabase database) : IOutboxStore
{
    private const string Columns = "seq, account_sid, recording_sid, url, method, payload, attempts, next_attempt_at, date_created";

    private static OutboxMessage Read(DbDataReader row) => new(row.Long("seq"), row.Text("account_sid"), row.Text("recording_sid"), row.Text("url"),
        row.Text("method"), row.Text("payload"), row.Int("attempts"), row.Time("next_attempt_at"), row.Time("date_created"));

    public Task<OutboxMessage> AddAsync(WriteScope scope, NewOutboxMessage message, DateTimeOffset leaseUntil, DateTimeOffset now) =>
        SqlRows.OneAsync(scope.Connection, $"""
            INSERT INTO outbox (account_sid, recording_sid, url, method, payload, attempts, next_attempt_at, date_created)
            VALUES (@AccountSid, @RecordingSid, @Url, @Method, @Payload, 0, @leaseUntil, @now) RETURNING {Columns}
            """, new { message.AccountSid, message.RecordingSid, message.Url, message.Method, message.Payload, leaseUntil, now }, Read, scope.Transaction);

    public async Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken = default)
    {
        // One statement claims a batch: the rows it moves past the lease are this instance's.
        var claimed = await database.WriteAsync(scope => SqlRows.ListAsync(scope.Connection, $"""
            UPDATE outbox SET next_attempt_at = @leaseUntil
            WHERE seq IN (SELECT seq FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= @now ORDER BY seq LIMIT @limit{database.SkipLocked})
            RETURNING {Columns}
            """, new { now, leaseUntil, limit }, Read, scope.Transaction), null, cancellationToken);
        return claimed.OrderBy(m => m.Seq).ToList();
    }

    public Task MarkDeliveredAsync(IReadOnlyCollection<long> seqs, DateTimeOffset now)
    {
        var parameters = new Dictionary<string, object?> { ["now"] = now };
        var sql = $"UPDATE outbox SET delivered_at = @now, attempts = attempts + 1, last_error = NULL WHERE seq IN {SqlRows.In(parameters, "seq", seqs)}";
        return database.WriteAsync(scope => SqlRows.ExecuteAsync(scope.Connection, sql, parameters, scope.Transaction));
    }

    public Task RetryLaterAsync(long seq, int attempts, string error, DateTimeOffset next) =>
        database.WriteAsync(scope => SqlRows.ExecuteAsync(scope.Connection, 
            "UPDATE outbox SET attempts = @attempts, last_error = @error, next_attempt_at = @next WHERE seq = @seq", new { attempts, error, next, seq }, scope.Transaction));

    public Task ReleaseAsync(IReadOnlyCollection<long> seqs, DateTimeOffset now)
    {
        var parameters = new Dictionary<string, object?> { ["now"] = now };
        var sql = $"UPDATE outbox SET next_attempt_at = @now WHERE seq IN {SqlRows.In(parameters, "seq", seqs)} AND delivered_at IS NULL";
        return database.WriteAsync(scope => SqlRows.ExecuteAsync(scope.Connection, sql, parameters, scope.Transaction));
    }

    public async Task<OutboxMessage?> FindAsync(long seq, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, $"SELECT {Columns} FROM outbox WHERE seq = @seq", new { seq }, Read, cancellationToken: cancellationToken);
    }
}
