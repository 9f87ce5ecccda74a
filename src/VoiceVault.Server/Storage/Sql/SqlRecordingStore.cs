using System.Data.Common;
using System.Text;
using Dapper;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

public sealed class SqlRecordingStore(IVaultDatabase database) : IRecordingStore
{
    /// <summary>The statuses of a recording still being stored or recorded, as an SQL list.</summary>
    internal static readonly string Unfinished = Spelling.SqlList(Spelling.Unfinished);

    internal static Recording Read(DbDataReader row) => new()
    {
        Seq = row.Long("seq"),
        Sid = row.Text("sid"),
        AccountSid = row.Text("account_sid"),
        CallSid = row.Text("call_sid"),
        Status = Spelling.ParseRecordingStatus(row.Text("status")),
        ErrorCode = row.IntOrNull("error_code"),
        Channels = row.Int("channels"),
        Source = Spelling.ParseRecordingSource(row.Text("source")),
        Track = row.Text("track"),
        StartTime = row.Time("start_time"),
        Duration = row.IntOrNull("duration"),
        MediaKey = row.TextOrNull("media_key"),
        MediaSize = row.LongOrNull("media_size"),
        KeyMode = row.TextOrNull("key_mode") is { } mode ? Spelling.ParseMediaKeyMode(mode) : null,
        PublicKeySid = row.TextOrNull("public_key_sid"),
        EncryptedCek = row.BytesOrNull("encrypted_cek"),
        Iv = row.BytesOrNull("iv"),
        ServerCekSealed = row.BytesOrNull("server_cek_sealed"),
        CallbackUrl = row.TextOrNull("callback_url"),
        CallbackMethod = row.Text("callback_method"),
        CallbackEvents = row.Text("callback_events"),
        DeleteAfter = row.TimeOrNull("delete_after"),
        RetainUntil = row.TimeOrNull("retain_until"),
        DateCreated = row.Time("date_created"),
        DateUpdated = row.Time("date_updated"),
    };

    public Task<Recording> CreateAsync(WriteScope scope, string sid, NewRecording recording, RecordingStatus status, string? owner, DateTimeOffset now) =>
        SqlRows.OneAsync(scope.Connection, (owner is null ? "" : "INSERT INTO recording_owners (recording_sid, instance) VALUES (@sid, @owner);\n") + """
            INSERT INTO recordings (sid, account_sid, call_sid, status, channels, source, track, start_time, callback_url, callback_method, callback_events, date_created, date_updated)
            VALUES (@sid, @AccountSid, @CallSid, @status, @Channels, @source, @Track, @now, @CallbackUrl, @CallbackMethod, @CallbackEvents, @now, @now)
            RETURNING *
            """, new
        {
            sid, recording.AccountSid, recording.CallSid, status = status.Text(), recording.Channels, source = recording.Source.Text(), recording.Track, now,
            recording.CallbackUrl, recording.CallbackMethod, recording.CallbackEvents, owner,
        }, Read, scope.Transaction);

    public Task<Recording> CompleteAsync(WriteScope scope, string sid, StoredMedia media, DateTimeOffset now) =>
        SqlRows.OneAsync(scope.Connection, """
            UPDATE recordings SET status = 'completed', error_code = NULL, media_key = @MediaKey, media_size = @MediaSize, channels = @Channels, duration = @Duration,
                key_mode = @keyMode, public_key_sid = @PublicKeySid, encrypted_cek = @EncryptedCek, iv = @Iv, server_cek_sealed = @ServerCekSealed, date_updated = @now
            WHERE sid = @sid
            RETURNING *
            """, new
        {
            media.MediaKey, media.MediaSize, media.Channels, media.Duration, keyMode = media.KeyMode.Text(), media.PublicKeySid, media.EncryptedCek, media.Iv,
            media.ServerCekSealed, now, sid,
        }, Read, scope.Transaction);

    public Task<Recording?> EndWithoutMediaAsync(WriteScope scope, string sid, RecordingStatus status, int? errorCode, DateTimeOffset now) =>
        SqlRows.FirstAsync(scope.Connection, $"""
            UPDATE recordings SET status = @status, error_code = @errorCode, media_key = NULL, media_size = NULL, key_mode = NULL, public_key_sid = NULL,
                encrypted_cek = NULL, iv = NULL, server_cek_sealed = NULL, date_updated = @now
            WHERE sid = @sid AND status IN {Unfinished}
            RETURNING *
            """, new { status = status.Text(), errorCode, now, sid }, Read, scope.Transaction);

    public Task<Recording?> SetUnfinishedStatusAsync(WriteScope scope, string sid, RecordingStatus status, DateTimeOffset now) =>
        SqlRows.FirstAsync(scope.Connection, $"UPDATE recordings SET status = @status, date_updated = @now WHERE sid = @sid AND status IN {Unfinished} RETURNING *",
            new { status = status.Text(), now, sid }, Read, scope.Transaction);

    public async Task<Recording?> FindAsync(string sid, WriteScope? scope = null, CancellationToken cancellationToken = default)
    {
        const string sql = "SELECT * FROM recordings WHERE sid = @sid";
        if (scope is not null)
        {
            return await SqlRows.FirstAsync(scope.Connection, sql, new { sid }, Read, scope.Transaction, cancellationToken);
        }
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, sql, new { sid }, Read, cancellationToken: cancellationToken);
    }

    public async Task<Recording?> FindAsync(string accountSid, string sid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, "SELECT * FROM recordings WHERE account_sid = @accountSid AND sid = @sid", new { accountSid, sid }, Read,
            cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyList<Recording>> PageAsync(RecordingFilter filter, PageCursor cursor, CancellationToken cancellationToken = default)
    {
        // Only the filters given are in the statement: an untyped NULL parameter is an error in PostgreSQL.
        var sql = new StringBuilder("SELECT * FROM recordings WHERE account_sid = @AccountSid");
        var parameters = new Dictionary<string, object?> { ["AccountSid"] = filter.AccountSid };
        if (filter.CallSid is not null)
        {
            sql.Append(" AND call_sid = @callSid");
            parameters["callSid"] = filter.CallSid;
        }
        if (filter.From is { } from)
        {
            sql.Append(" AND date_created >= @from");
            parameters["from"] = from;
        }
        if (filter.Until is { } until)
        {
            sql.Append(" AND date_created <= @until");
            parameters["until"] = until;
        }
        if (filter.PublicKeySid is not null)
        {
            sql.Append(" AND public_key_sid = @publicKeySid");
            parameters["publicKeySid"] = filter.PublicKeySid;
        }
        if (filter.Statuses is { Count: > 0 } statuses)
        {
            sql.Append(" AND status IN ").Append(SqlRows.In(parameters, "status", statuses.Select(s => s.Text())));
        }
        await using var db = await database.OpenAsync(cancellationToken);
        return await Keyset.PageAsync(db, sql, parameters, cursor, Read, cancellationToken);
    }

    public async Task<bool> DeleteAsync(WriteScope scope, string sid)
    {
        await SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM recording_wraps WHERE recording_sid = @sid", new { sid }, scope.Transaction);
        return await SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM recordings WHERE sid = @sid", new { sid }, scope.Transaction) > 0;
    }

    public async Task<Recording?> AddWrapAsync(WriteScope scope, string sid, string publicKeySid, byte[] encryptedCek, DateTimeOffset now)
    {
        var current = await SqlRows.FirstAsync(scope.Connection, "SELECT * FROM recordings WHERE sid = @sid AND key_mode = 'customer' AND encrypted_cek IS NOT NULL",
            new { sid }, Read, scope.Transaction);
        if (current is null)
        {
            return null;
        }
        // The first re-wrap files the original (dated with the recording) before the new one.
        await SqlRows.ExecuteAsync(scope.Connection, """
            INSERT INTO recording_wraps (recording_sid, public_key_sid, encrypted_cek, date_created)
            SELECT @sid, @PublicKeySid, @EncryptedCek, @DateCreated WHERE NOT EXISTS (SELECT 1 FROM recording_wraps WHERE recording_sid = @sid)
            """, new { sid, current.PublicKeySid, current.EncryptedCek, current.DateCreated }, scope.Transaction);
        await SqlRows.ExecuteAsync(scope.Connection, """
            INSERT INTO recording_wraps (recording_sid, public_key_sid, encrypted_cek, date_created) VALUES (@sid, @publicKeySid, @encryptedCek, @now)
            """, new { sid, publicKeySid, encryptedCek, now }, scope.Transaction);
        return await SqlRows.FirstAsync(scope.Connection,
            "UPDATE recordings SET public_key_sid = @publicKeySid, encrypted_cek = @encryptedCek, date_updated = @now WHERE sid = @sid RETURNING *",
            new { sid, publicKeySid, encryptedCek, now }, Read, scope.Transaction);
    }

    public async Task<IReadOnlyList<RecordingWrap>> ListWrapsAsync(Recording recording, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        var wraps = await SqlRows.ListAsync(db, "SELECT * FROM recording_wraps WHERE recording_sid = @Sid ORDER BY seq DESC", new { recording.Sid },
            row => new RecordingWrap(row.TextOrNull("public_key_sid"), row.Bytes("encrypted_cek"), row.Time("date_created")), cancellationToken: cancellationToken);
        return wraps.Count > 0 || recording.EncryptedCek is null ? wraps : [new RecordingWrap(recording.PublicKeySid, recording.EncryptedCek, recording.DateCreated)];
    }

    public async Task<int> CountUsingKeyAsync(string publicKeySid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return (int)await SqlRows.ScalarAsync<long>(db, "SELECT COUNT(*) FROM recordings WHERE public_key_sid = @publicKeySid", new { publicKeySid },
            cancellationToken: cancellationToken);
    }
}

/// <summary>Newest-first keyset paging over <c>seq</c>, shared by the lists.</summary>
internal static class Keyset
{
    /// <summary>
    /// One page over <paramref name="column"/> (plus one row when there is a next page): newest
    /// first when <paramref name="descending"/>, oldest first otherwise; <c>After</c> continues in
    /// list order, <c>Before</c> goes back against it.
    /// </summary>
    public static async Task<List<T>> PageAsync<T>(DbConnection db, StringBuilder sql, Dictionary<string, object?> parameters, PageCursor cursor, Func<DbDataReader, T> read,
        CancellationToken cancellationToken, string column = "seq", bool descending = true)
    {
        var (onward, back) = descending ? ("<", ">") : (">", "<");
        if (cursor.After is { } after)
        {
            sql.Append($" AND {column} {onward} @after");
            parameters["after"] = after;
        }
        bool backwards = cursor.Before is not null;
        if (cursor.Before is { } before)
        {
            sql.Append($" AND {column} {back} @before");
            parameters["before"] = before;
        }
        parameters["limit"] = cursor.Size + 1;
        sql.Append($" ORDER BY {column} {(backwards == descending ? "ASC" : "DESC")} LIMIT @limit");
        var rows = await SqlRows.ListAsync(db, sql.ToString(), parameters, read, cancellationToken: cancellationToken);
        if (backwards)
        {
            rows.Reverse();
        }
        return rows;
    }
}
