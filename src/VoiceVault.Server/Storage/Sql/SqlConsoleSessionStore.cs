using System.Data.Common;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

public sealed class SqlConsoleSessionStore(IVaultDatabase database) : IConsoleSessionStore
{
    private static ConsoleSession Read(DbDataReader row) => new(row.Text("id_hash"), row.Text("account_sid"), row.TextOrNull("api_key_sid"),
        row.Text("csrf_token"), row.Time("date_created"), row.Time("last_seen"));

    public Task CreateAsync(WriteScope scope, ConsoleSession session) =>
        SqlRows.ExecuteAsync(scope.Connection, """
            INSERT INTO console_sessions (id_hash, account_sid, api_key_sid, csrf_token, date_created, last_seen)
            VALUES (@IdHash, @AccountSid, @ApiKeySid, @CsrfToken, @DateCreated, @LastSeen)
            """, session, scope.Transaction);

    public async Task<ConsoleSession?> FindLiveAsync(string idHash, DateTimeOffset idleSince, DateTimeOffset createdSince, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        // One query decides everything a request needs: the session, its expiry, the account's
        // status and its key's existence — a suspended account or a deleted key ends it at once.
        return await SqlRows.FirstAsync(db, """
            SELECT s.*, (SELECT k.role FROM api_keys k WHERE k.sid = s.api_key_sid) AS key_role FROM console_sessions s JOIN accounts a ON a.sid = s.account_sid
            WHERE s.id_hash = @idHash AND s.last_seen >= @idleSince AND s.date_created >= @createdSince AND a.status = 'active'
              AND (s.api_key_sid IS NULL OR EXISTS (SELECT 1 FROM api_keys k WHERE k.sid = s.api_key_sid AND k.account_sid = s.account_sid))
            """, new { idHash, idleSince, createdSince }, row => Read(row) with { Auditor = row.TextOrNull("key_role") == "auditor" }, cancellationToken: cancellationToken);
    }

    public Task TouchAsync(string idHash, DateTimeOffset now) =>
        database.WriteAsync(scope => SqlRows.ExecuteAsync(scope.Connection, "UPDATE console_sessions SET last_seen = @now WHERE id_hash = @idHash",
            new { idHash, now }, scope.Transaction));

    public async Task<bool> DeleteAsync(WriteScope scope, string idHash) =>
        await SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM console_sessions WHERE id_hash = @idHash", new { idHash }, scope.Transaction) > 0;

    public Task<int> DeleteDeadAsync(DateTimeOffset idleSince, DateTimeOffset createdSince) =>
        database.WriteAsync(scope => SqlRows.ExecuteAsync(scope.Connection, """
            DELETE FROM console_sessions WHERE last_seen < @idleSince OR date_created < @createdSince
              OR (api_key_sid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.sid = console_sessions.api_key_sid))
            """, new { idleSince, createdSince }, scope.Transaction));
}
