using Dapper;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

public sealed class SqlInstanceStore(IVaultDatabase database) : IInstanceStore
{
    public Task HeartbeatAsync(string instance, DateTimeOffset now, string? address = null) => database.WriteAsync(async scope =>
    {
        await SqlRows.ExecuteAsync(scope.Connection, """
            INSERT INTO instances (id, heartbeat_at, address) VALUES (@instance, @now, @address)
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, address = COALESCE(excluded.address, instances.address)
            """, new { instance, now, address }, scope.Transaction);
        await SqlRows.ExecuteAsync(scope.Connection, $"""
            DELETE FROM recording_owners WHERE recording_sid IN (
                SELECT o.recording_sid FROM recording_owners o JOIN recordings r ON r.sid = o.recording_sid
                WHERE r.status NOT IN {SqlRecordingStore.Unfinished})
            """, null, scope.Transaction);
    });

    public Task SetLiveCallAsync(string accountSid, string callSid, string instance) => database.WriteAsync(scope =>
        SqlRows.ExecuteAsync(scope.Connection, """
            INSERT INTO live_calls (account_sid, call_sid, instance) VALUES (@accountSid, @callSid, @instance)
            ON CONFLICT (account_sid, call_sid) DO UPDATE SET instance = excluded.instance
            """, new { accountSid, callSid, instance }, scope.Transaction));

    public Task EndLiveCallAsync(string accountSid, string callSid, string instance) => database.WriteAsync(scope =>
        SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM live_calls WHERE account_sid = @accountSid AND call_sid = @callSid AND instance = @instance",
            new { accountSid, callSid, instance }, scope.Transaction));

    public Task EndLiveCallsAsync(string instance) => database.WriteAsync(scope =>
        SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM live_calls WHERE instance = @instance", new { instance }, scope.Transaction));

    public async Task<string?> LiveCallAddressAsync(string accountSid, string callSid, string instance, DateTimeOffset deadBefore, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        var found = await SqlRows.ListAsync(db, """
            SELECT i.address FROM live_calls c JOIN instances i ON i.id = c.instance
            WHERE c.account_sid = @accountSid AND c.call_sid = @callSid AND c.instance <> @instance
              AND i.heartbeat_at >= @deadBefore AND i.address IS NOT NULL
            """, new { accountSid, callSid, instance, deadBefore }, row => row.Text("address"), cancellationToken: cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<IReadOnlyList<Recording>> AbandonedAsync(string instance, bool includeOwn, DateTimeOffset deadBefore, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.ListAsync(db, $"""
            SELECT r.* FROM recordings r
            LEFT JOIN recording_owners o ON o.recording_sid = r.sid
            LEFT JOIN instances i ON i.id = o.instance
            WHERE r.status IN {SqlRecordingStore.Unfinished}
              AND (o.instance IS NULL OR (o.instance = @instance AND @includeOwn) OR (o.instance <> @instance AND (i.id IS NULL OR i.heartbeat_at < @deadBefore)))
            ORDER BY r.seq
            """, new { instance, includeOwn, deadBefore }, SqlRecordingStore.Read, cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlySet<string>> HeldByOthersAsync(string instance, DateTimeOffset deadBefore, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return (await SqlRows.ListAsync(db, $"""
            SELECT r.sid FROM recordings r
            JOIN recording_owners o ON o.recording_sid = r.sid
            JOIN instances i ON i.id = o.instance
            WHERE r.status IN {SqlRecordingStore.Unfinished} AND o.instance <> @instance AND i.heartbeat_at >= @deadBefore
            """, new { instance, deadBefore }, row => row.Text("sid"), cancellationToken: cancellationToken)).ToHashSet(StringComparer.Ordinal);
    }
}
