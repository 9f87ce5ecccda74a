using VoiceVault.Crypto;

namespace VoiceVault.Server.Core;

/// <summary>
/// A recording's life, in one place: created (<c>processing</c> for an upload, <c>in-progress</c> for
/// a live call) → <c>paused</c> ⇄ <c>in-progress</c> → <c>completed</c> | <c>absent</c> | <c>failed</c>.
/// Every transition commits with its side effects in one transaction — the owner of an unfinished
/// recording, the notification that explains a failure or a fallback key (16104, 16107), the
/// status callback in the outbox — and a recording ends once: whoever ends it second changes nothing.
/// Uploads, live calls and the instance lease are adapters that call these methods.
/// </summary>
public sealed class RecordingLifecycle(IVaultDatabase database, IRecordingStore recordings, INotificationStore notifications, IOutboxStore outbox,
    IPublicKeyStore keys, ICallbackSender callbacks, VaultOptions options, TimeProvider clock, CallbackUrlSeal callbackUrls, AuditTrail audit)
{
    /// <summary>The media store's key of a recording's ciphertext.</summary>
    public static string MediaKeyOf(Recording recording) => $"{recording.AccountSid}/{recording.Sid}";

    /// <summary>The recording's resource path (without <c>.json</c>).</summary>
    public static string UriOf(Recording recording) => $"/2010-04-01/Accounts/{recording.AccountSid}/Recordings/{recording.Sid}";

    /// <summary>The encryption details of a recording encrypted to a customer's key; null for any other.</summary>
    public static EncryptionDetails? DetailsOf(Recording recording) =>
        recording.KeyMode == MediaKeyMode.Customer && recording.EncryptedCek is not null && recording.Iv is not null
            ? new EncryptionDetails(recording.PublicKeySid, recording.EncryptedCek, recording.Iv)
            : null;

    public Task<Recording?> FindAsync(string sid) => recordings.FindAsync(sid);

    /// <summary>
    /// Starts a recording: chooses how it will be encrypted (<see cref="EncryptionPlan"/>: the
    /// configured key, a fallback with warning 16107, or the server-managed key when the feature is
    /// off) and creates it, recorded as <paramref name="actor"/>'s. When the feature is on and no
    /// key is usable it fails at once (16104, with its notification and callback) and no plan is
    /// returned. The caller disposes the plan.
    /// </summary>
    public async Task<(Recording Recording, EncryptionPlan? Plan)> BeginAsync(NewRecording recording, RecordingStatus status, string? parentSid, Actor actor)
    {
        var plan = await EncryptionPlan.ForAsync(recording.AccountSid, parentSid, keys);
        Recording created;
        try
        {
            created = await CreateAsync(recording, status, actor);
        }
        catch
        {
            plan.Dispose();
            throw;
        }
        if (plan.FailureReason is { } why)
        {
            plan.Dispose();
            return (await FailAsync(created, why), null);
        }
        return (created, plan);
    }

    /// <summary>Creates a recording owned by this instance until it ends; its callback, if it asked for this status, is queued with it.</summary>
    public Task<Recording> CreateAsync(NewRecording recording, RecordingStatus status, Actor actor)
    {
        if (status is not (RecordingStatus.Processing or RecordingStatus.InProgress))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A recording starts processing (upload) or in-progress (live).");
        }
        var sid = Sid.New("RE");
        return ChangeAsync(async (scope, now) =>
        {
            // Unfinished until this instance ends it; if the instance dies, another ends it (InstanceLease).
            return await recordings.CreateAsync(scope, sid, recording with { CallbackUrl = callbackUrls.Seal(recording.AccountSid, recording.CallbackUrl) },
                status, options.InstanceId, now);
        }, null, created => Audited.RecordingCreated(created, actor));
    }

    /// <summary>
    /// Finishes a recording by storing its media: <paramref name="store"/> encrypts and stores it
    /// (null: there was no audio). Completed with the plan's warning (16107) as a notification;
    /// absent without audio, or when <paramref name="brokenByClient"/> says the input broke (then
    /// the exception is rethrown); failed (16104) when encrypting or storing failed — the media
    /// store has already deleted its bytes. <paramref name="stoppedBy"/>: who asked for the stop
    /// (<c>recording.control</c>, committed with the end), when someone did.
    /// </summary>
    public async Task<Recording> FinishAsync(Recording recording, EncryptionPlan plan, Func<Task<StoredMedia?>> store, Func<Exception, bool>? brokenByClient = null,
        Actor? stoppedBy = null)
    {
        StoredMedia? stored;
        try
        {
            stored = await store();
        }
        catch (Exception e) when (brokenByClient?.Invoke(e) == true)
        {
            await EndAbsentAsync(recording, stoppedBy);
            throw;
        }
        catch (Exception e)
        {
            return await FailAsync(recording, $"The recording could not be encrypted and stored ({e.GetType().Name}); its bytes were deleted.", stoppedBy);
        }
        if (stored is null)
        {
            return await EndAbsentAsync(recording, stoppedBy);
        }
        var warning = plan.Warning is { } w ? new NewNotification(recording.AccountSid, recording.CallSid, w.Code, NotificationLevel.Warning, w.Message) : null;
        return await ChangeAsync(async (scope, now) => await recordings.CompleteAsync(scope, recording.Sid, stored, now), warning, Stopped(stoppedBy));
    }

    /// <summary>Ends a recording that has no audio: absent, no notification.</summary>
    public Task<Recording> EndAbsentAsync(Recording recording, Actor? stoppedBy = null) => EndWithoutMediaAsync(recording, RecordingStatus.Absent, null, stoppedBy);

    /// <summary>Ends a recording as failed with 16104 and a notification saying <paramref name="why"/>.</summary>
    public Task<Recording> FailAsync(Recording recording, string why, Actor? stoppedBy = null) =>
        EndWithoutMediaAsync(recording, RecordingStatus.Failed, new NewNotification(recording.AccountSid, recording.CallSid, 16104, NotificationLevel.Error, why), stoppedBy);

    /// <summary>
    /// Pauses or resumes a live recording at <paramref name="actor"/>'s request: the status only, no
    /// callback (Twilio sends none for these), and its <c>recording.control</c> event. An ended
    /// recording is returned as it is, and nothing is recorded.
    /// </summary>
    public async Task<Recording> SetPausedAsync(Recording recording, bool paused, Actor actor)
    {
        var status = paused ? RecordingStatus.Paused : RecordingStatus.InProgress;
        var now = clock.GetUtcNow();
        var (changed, current) = await database.WriteAsync(async scope =>
        {
            var changed = await recordings.SetUnfinishedStatusAsync(scope, recording.Sid, status, now);
            if (changed is not null)
            {
                await audit.AppendAsync(scope, Audited.RecordingControlled(changed, actor, status.Text()));
            }
            return (changed, changed ?? await recordings.FindAsync(recording.Sid, scope));
        });
        return changed ?? current!;
    }

    /// <summary>
    /// Gives a customer-encrypted recording's CEK another wrap, the new current one (docs/api.md
    /// §7a), recorded as <paramref name="actor"/>'s; null when the recording is gone or has no CEK wrap.
    /// </summary>
    public Task<Recording?> AddWrapAsync(Recording recording, PublicKey key, byte[] wrapped, Actor actor) =>
        audit.ChangeAsync(scope => recordings.AddWrapAsync(scope, recording.Sid, key.Sid, wrapped, clock.GetUtcNow()),
            updated => updated is null ? null : Audited.WrapAdded(updated, actor, key));

    /// <summary>
    /// Ends a recording that a stopped instance left unfinished: its partial media and its spool are
    /// deleted (ciphertext under keys that died with the process), then it fails with 16104.
    /// </summary>
    public async Task<Recording> EndAbandonedAsync(Recording recording, IMediaStore media)
    {
        await media.DeleteAsync(MediaKeyOf(recording));
        var spool = Path.Combine(options.SpoolDir, recording.Sid + ".spool");
        if (File.Exists(spool))
        {
            File.Delete(spool);
        }
        return await FailAsync(recording, recording.Status == RecordingStatus.Processing
            ? "The server stopped while the recording was being stored; its bytes were deleted."
            : "The server stopped during the live call; the audio recorded so far was encrypted under a key that existed only in its memory and was deleted.");
    }

    /// <summary>
    /// Deletes a recording for <paramref name="reason"/>, recorded as <paramref name="actor"/>'s: its
    /// rows and its event, then its media, in one transaction — the media last, so a refusal (the
    /// trail cannot record it) deletes nothing, and the rows are gone only if the media is. False
    /// when it was gone already (nothing recorded).
    /// </summary>
    public Task<bool> DeleteAsync(Recording recording, IMediaStore media, Actor actor, string reason) =>
        database.WriteAsync(async scope =>
        {
            if (!await recordings.DeleteAsync(scope, recording.Sid))
            {
                return false;
            }
            await audit.AppendAsync(scope, Audited.RecordingDeleted(recording, actor, reason));
            if (recording.MediaKey is not null)
            {
                await media.DeleteAsync(recording.MediaKey);
            }
            return true;
        });

    // A recording ends once: if it has ended meanwhile (another instance ended a dead one's, say),
    // it is returned as it is, with no second notification or callback.
    private Task<Recording> EndWithoutMediaAsync(Recording recording, RecordingStatus status, NewNotification? notification, Actor? stoppedBy) =>
        ChangeAsync((scope, now) => recordings.EndWithoutMediaAsync(scope, recording.Sid, status, notification?.ErrorCode, now), notification,
            Stopped(stoppedBy), scope => recordings.FindAsync(recording.Sid, scope));

    private static Func<Recording, NewAuditEvent>? Stopped(Actor? by) =>
        by is null ? null : ended => Audited.RecordingControlled(ended, by, "stopped");

    // One transition: the change, and when it happened, its notification, its audit event and its
    // callback, committed together; the callback is handed to the dispatcher as soon as the commit
    // is durable.
    private async Task<Recording> ChangeAsync(Func<WriteScope, DateTimeOffset, Task<Recording?>> change, NewNotification? notification,
        Func<Recording, NewAuditEvent>? audited, Func<WriteScope, Task<Recording?>>? unchanged = null)
    {
        var now = clock.GetUtcNow();
        var (recording, callback) = await database.WriteAsync(async scope =>
        {
            var changed = await change(scope, now);
            if (changed is null)
            {
                var current = unchanged is null ? null : await unchanged(scope);
                return (current ?? throw new InvalidOperationException("The recording no longer exists."), (OutboxMessage?)null);
            }
            if (notification is not null)
            {
                await notifications.AddAsync(scope, Sid.New("NO"), notification, now);
            }
            if (audited is not null)
            {
                await audit.AppendAsync(scope, audited(changed));
            }
            var message = StatusCallback.For(changed, options.PublicBaseUrl);
            return (changed, message is null ? null : await outbox.AddAsync(scope, message, now + CallbackLease, now));
        }, committed: result =>
        {
            if (result.Item2 is { } message)
            {
                callbacks.Send(message);
            }
        });
        return recording;
    }

    /// <summary>How long a callback is its sender's before any instance may deliver it (a crash lets it run out).</summary>
    public static readonly TimeSpan CallbackLease = TimeSpan.FromSeconds(30);
}
