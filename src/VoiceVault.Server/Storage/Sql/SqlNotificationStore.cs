using System.Data.Common;
using System.Text;
using Dapper;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

public sealed class SqlNotificationStore(IVaultDatabase database) : INotificationStore
{
    private static Notification Read(DbDataReader row) => new(row.Long("seq"), row.Text("sid"), row.Text("account_sid"), row.TextOrNull("call_sid"),
        row.Int("error_code"), (NotificationLevel)row.Int("log"), row.Text("message_text"), row.TextOrNull("request_method"), row.TextOrNull("request_url"),
        row.Time("date_created"));

    public Task<Notification> AddAsync(WriteScope scope, string sid, NewNotification notification, DateTimeOffset now) =>
        SqlRows.OneAsync(scope.Connection, """
            INSERT INTO notifications (sid, account_sid, call_sid, error_code, log, message_text, date_created)
            VALUES (@sid, @AccountSid, @CallSid, @ErrorCode, @log, @MessageText, @now) RETURNING *
            """, new { sid, notification.AccountSid, notification.CallSid, notification.ErrorCode, log = (int)notification.Log, notification.MessageText, now },
            Read, scope.Transaction);

    public async Task<Notification?> FindAsync(string accountSid, string sid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, "SELECT * FROM notifications WHERE account_sid = @accountSid AND sid = @sid", new { accountSid, sid }, Read,
            cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyList<Notification>> PageAsync(string accountSid, NotificationLevel? log, PageCursor cursor, CancellationToken cancellationToken = default)
    {
        var sql = new StringBuilder("SELECT * FROM notifications WHERE account_sid = @accountSid");
        var parameters = new Dictionary<string, object?> { ["accountSid"] = accountSid };
        if (log is { } level)
        {
            sql.Append(" AND log = @log");
            parameters["log"] = (int)level;
        }
        await using var db = await database.OpenAsync(cancellationToken);
        return await Keyset.PageAsync(db, sql, parameters, cursor, Read, cancellationToken);
    }
}
