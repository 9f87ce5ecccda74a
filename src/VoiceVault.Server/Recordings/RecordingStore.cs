using Dapper;
using VoiceVault.Server.Api;
using VoiceVault.Server.Notifications;
using VoiceVault.Server.Storage;
using VoiceVault.Server.Webhooks;

namespace VoiceVault.Server.Recordings;

/// <summary>Recording rows and their state changes; each change lands with its callback and notification in one transaction.</summary>
public sealed class RecordingStore(IVaultDatabase database, VaultOptions options, TimeProvider clock, CallbackDispatcher dispatcher)
{
    public sealed record NewRecording(string AccountSid, string CallSid, string Source, string Track, long Channels, string? CallbackUrl, string CallbackMethod, string CallbackEvents);

    public async Task<Recording> CreateAsync(NewRecording spec, string status)
    {
        var sid = Sid.New("RE");
        var now = Dates.Stored(clock.GetUtcNow());
        var (recording, _) = await database.WriteAsync(async (db, tx) =>
        {
            var created = await db.QuerySingleAsync<Recording>("""
                INSERT INTO recordings (sid, account_sid, call_sid, status, channels, source, track, start_time, callback_url, callback_method, callback_events, date_created, date_updated)
                VALUES (@sid, @AccountSid, @CallSid, @status, @Channels, @Source, @Track, @now, @CallbackUrl, @CallbackMethod, @CallbackEvents, @now, @now)
                RETURNING *
                """, new { sid, spec.AccountSid, spec.CallSid, status, spec.Channels, spec.Source, spec.Track, now, spec.CallbackUrl, spec.CallbackMethod, spec.CallbackEvents }, tx);
            // Unfinished until this instance ends it; if the instance dies, another ends it (InstanceLease).
            await db.ExecuteAsync("INSERT INTO recording_owners (recording_sid, instance) VALUES (@sid, @instance)", new { sid, instance = options.InstanceId }, tx);
            return (created, await StatusCallback.QueueAsync(db, tx, created, options, clock.GetUtcNow()));
        }, SendCallback);
        return recording;
    }

    // After the commit, on the writer's thread: the callback starts on its way before the caller resumes.
    private void SendCallback((Recording Recording, OutboxRow? Callback) changed)
    {
        if (changed.Callback is not null)
        {
            dispatcher.Send(changed.Callback);
        }
    }

    public sealed record StoredMedia(string MediaKey, long MediaSize, long Channels, long Duration, string KeyMode, string? PublicKeySid, byte[]? EncryptedCek, byte[] Iv, byte[]? ServerCekSealed);

    public async Task<Recording> CompleteAsync(Recording recording, StoredMedia media, (int Code, string Message)? warning)
    {
        var now = clock.GetUtcNow();
        var (updated, _) = await database.WriteAsync(async (db, tx) =>
        {
            if (warning is { } w)
            {
                await Notification.AddAsync(db, tx, recording.AccountSid, recording.CallSid, w.Code, Notification.Warning, w.Message, now);
            }
            var changed = await db.QuerySingleAsync<Recording>("""
                UPDATE recordings SET status = 'completed', error_code = NULL, media_key = @MediaKey, media_size = @MediaSize, channels = @Channels, duration = @Duration,
                    key_mode = @KeyMode, public_key_sid = @PublicKeySid, encrypted_cek = @EncryptedCek, iv = @Iv, server_cek_sealed = @ServerCekSealed, date_updated = @now
                WHERE sid = @sid
                RETURNING *
                """, new { media.MediaKey, media.MediaSize, media.Channels, media.Duration, media.KeyMode, media.PublicKeySid, media.EncryptedCek, media.Iv, media.ServerCekSealed, now = Dates.Stored(now), sid = recording.Sid }, tx);
            return (changed, await StatusCallback.QueueAsync(db, tx, changed, options, now));
        }, SendCallback);
        return updated;
    }

    /// <summary>
    /// Ends a recording without media: <c>failed</c> (with an error code and a notification) or
    /// <c>absent</c>. A recording ends once: if it has ended meanwhile (another instance ended a
    /// dead one's, say), it is returned as it is, with no second notification or callback.
    /// </summary>
    public async Task<Recording> EndWithoutMediaAsync(Recording recording, string status, int? errorCode, string? notification)
    {
        var now = clock.GetUtcNow();
        var (updated, _) = await database.WriteAsync(async (db, tx) =>
        {
            var changed = await db.QuerySingleOrDefaultAsync<Recording>($"""
                UPDATE recordings SET status = @status, error_code = @errorCode, media_key = NULL, media_size = NULL, key_mode = NULL, public_key_sid = NULL,
                    encrypted_cek = NULL, iv = NULL, server_cek_sealed = NULL, date_updated = @now
                WHERE sid = @sid AND status IN {Unfinished}
                RETURNING *
                """, new { status, errorCode, now = Dates.Stored(now), sid = recording.Sid }, tx);
            if (changed is null)
            {
                return (await db.QuerySingleAsync<Recording>("SELECT * FROM recordings WHERE sid = @sid", new { sid = recording.Sid }, tx), (OutboxRow?)null);
            }
            if (notification is not null && errorCode is { } code)
            {
                await Notification.AddAsync(db, tx, recording.AccountSid, recording.CallSid, code, Notification.Error, notification, now);
            }
            return (changed, await StatusCallback.QueueAsync(db, tx, changed, options, now));
        }, SendCallback);
        return updated;
    }

    // The statuses of a recording still being stored or recorded.
    private const string Unfinished = "('processing', 'in-progress', 'paused')";

    /// <summary>A live recording paused or resumed: the status only, no callback (Twilio sends none for these).</summary>
    public Task<Recording> SetLiveStatusAsync(Recording recording, string status) =>
        database.WriteAsync((db, tx) => db.QuerySingleAsync<Recording>(
            "UPDATE recordings SET status = @status, date_updated = @now WHERE sid = @sid RETURNING *",
            new { status, now = Dates.Stored(clock.GetUtcNow()), sid = recording.Sid }, tx));

    public async Task<Recording?> FindAsync(string accountSid, string sid)
    {
        await using var db = await database.OpenAsync();
        return await db.QuerySingleOrDefaultAsync<Recording>("SELECT * FROM recordings WHERE account_sid = @accountSid AND sid = @sid", new { accountSid, sid });
    }

    /// <summary>
    /// One page of an account's recordings, newest first, by call and by creation time (inclusive
    /// bounds, UTC): the rows the page needs plus one to tell whether another page follows, never
    /// the whole list.
    /// </summary>
    public async Task<IReadOnlyList<Recording>> PageAsync(string accountSid, string? callSid, DateTimeOffset? from, DateTimeOffset? until, PageRequest page)
    {
        await using var db = await database.OpenAsync();
        var backwards = page.Before is not null;
        var rows = (await db.QueryAsync<Recording>($"""
            SELECT * FROM recordings WHERE account_sid = @accountSid AND (@callSid IS NULL OR call_sid = @callSid)
              AND (@from IS NULL OR date_created >= @from) AND (@until IS NULL OR date_created <= @until)
              AND (@after IS NULL OR seq < @after) AND (@before IS NULL OR seq > @before)
            ORDER BY seq {(backwards ? "ASC" : "DESC")} LIMIT @limit
            """, new
        {
            accountSid, callSid, from = from is { } f ? Dates.Stored(f) : null, until = until is { } u ? Dates.Stored(u) : null,
            after = page.After, before = page.Before, limit = page.PageSize + 1,
        })).AsList();
        if (backwards)
        {
            rows.Reverse();
        }
        return rows;
    }

    public async Task DeleteAsync(Recording recording)
    {
        await database.WriteAsync((db, tx) => db.ExecuteAsync("DELETE FROM recordings WHERE sid = @sid", new { sid = recording.Sid }, tx));
    }

    /// <summary>
    /// Unfinished recordings nobody is finishing: this instance's from before a restart (when
    /// <paramref name="includeOwn"/>), those of instances whose heartbeat is older than
    /// <paramref name="deadBefore"/>, and those with no owner.
    /// </summary>
    public async Task<IReadOnlyList<Recording>> AbandonedAsync(bool includeOwn, DateTimeOffset deadBefore)
    {
        await using var db = await database.OpenAsync();
        return (await db.QueryAsync<Recording>($"""
            SELECT r.* FROM recordings r
            LEFT JOIN recording_owners o ON o.recording_sid = r.sid
            LEFT JOIN instances i ON i.id = o.instance
            WHERE r.status IN {Unfinished}
              AND (o.instance IS NULL OR (o.instance = @self AND @includeOwn) OR (o.instance <> @self AND (i.id IS NULL OR i.heartbeat_at < @dead)))
            """, new { self = options.InstanceId, includeOwn, dead = Dates.Stored(deadBefore) })).AsList();
    }

    /// <summary>The unfinished recordings of every instance but this one that is alive (heartbeat at or after <paramref name="deadBefore"/>).</summary>
    public async Task<IReadOnlySet<string>> HeldByOthersAsync(DateTimeOffset deadBefore)
    {
        await using var db = await database.OpenAsync();
        return (await db.QueryAsync<string>($"""
            SELECT r.sid FROM recordings r
            JOIN recording_owners o ON o.recording_sid = r.sid
            JOIN instances i ON i.id = o.instance
            WHERE r.status IN {Unfinished} AND o.instance <> @self AND i.heartbeat_at >= @dead
            """, new { self = options.InstanceId, dead = Dates.Stored(deadBefore) })).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Writes this instance's heartbeat, and forgets the owners of recordings that have ended.</summary>
    public Task HeartbeatAsync(DateTimeOffset now) => database.WriteAsync(async (db, tx) =>
    {
        await db.ExecuteAsync("INSERT INTO instances (id, heartbeat_at) VALUES (@id, @now) ON CONFLICT (id) DO UPDATE SET heartbeat_at = @now",
            new { id = options.InstanceId, now = Dates.Stored(now) }, tx);
        return await db.ExecuteAsync($"""
            DELETE FROM recording_owners WHERE recording_sid IN (
                SELECT o.recording_sid FROM recording_owners o JOIN recordings r ON r.sid = o.recording_sid
                WHERE r.status NOT IN {Unfinished})
            """, transaction: tx);
    });
}
