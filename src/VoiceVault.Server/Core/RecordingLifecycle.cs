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
    IPublicKeyStore keys, ICallbackSender callbacks, VaultOptions options, TimeProvider clock, CallbackUrlSeal callbackUrls)
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
    /// off) and creates it. When the feature is on and no key is usable it fails at once (16104,
    /// with its notification and callback) and no plan is returned. The caller disposes the plan.
    /// </summary>
    public async Task<(Recording Recording, EncryptionPlan? Plan)> BeginAsync(NewRecording recording, RecordingStatus status, string? parentSid)
    {
        var plan = await EncryptionPlan.ForAsync(recording.AccountSid, parentSid, keys);
        Recording created;
        try
        {
            created = await CreateAsync(recording, status);
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
    public Task<Recording> CreateAsync(NewRecording recording, RecordingStatus status)
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
        }, null);
    }

    /// <summary>
    /// Finishes a recording by storing its media: <paramref name="store"/> encrypts and stores it
    /// (null: there was no audio). Completed with the plan's warning (16107) as a notification;
    /// absent without audio, or when <paramref name="brokenByClient"/> says the input broke (then
    /// the exception is rethrown); failed (16104) when encrypting or storing failed — the media
    /// store has already deleted its bytes.
    /// </summary>
    public async Task<Recording> FinishAsync(Recording recording, EncryptionPlan plan, Func<Task<StoredMedia?>> store, Func<Exception, bool>? brokenByClient = null)
    {
        StoredMedia? stored;
        try
        {
            stored = await store();
        }
        catch (Exception e) when (brokenByClient?.Invoke(e) == true)
        {
            await EndAbsentAsync(recording);
            throw;
        }
        catch (Exception e)
        {
            return await FailAsync(recording, $"The recording could not be encrypted and stored ({e.GetType().Name}); its bytes were deleted.");
        }
        if (stored is null)
        {
            return await EndAbsentAsync(recording);
        }
        var warning = plan.Warning is { } w ? new NewNotification(recording.AccountSid, recording.CallSid, w.Code, NotificationLevel.Warning, w.Message) : null;
        return await ChangeAsync(async (scope, now) => await recordings.CompleteAsync(scope, recording.Sid, stored, now), warning);
    }

    /// <summary>Ends a recording that has no audio: absent, no notification.</summary>
    public Task<Recording> EndAbsentAsync(Recording recording) => EndWithoutMediaAsync(recording, RecordingStatus.Absent, null);

    /// <summary>Ends a recording as failed with 16104 and a notification saying <paramref name="why"/>.</summary>
    public Task<Recording> FailAsync(Recording recording, string why) =>
        EndWithoutMediaAsync(recording, RecordingStatus.Failed, new NewNotification(recording.AccountSid, recording.CallSid, 16104, NotificationLevel.Error, why));

    /// <summary>Pauses or resumes a live recording: the status only, no callback (Twilio sends none for these). An ended recording is returned as it is.</summary>
    public async Task<Recording> SetPausedAsync(Recording recording, bool paused)
    {
        var status = paused ? RecordingStatus.Paused : RecordingStatus.InProgress;
        var now = clock.GetUtcNow();
        return await database.WriteAsync(async scope =>
            await recordings.SetUnfinishedStatusAsync(scope, recording.Sid, status, now) ?? (await recordings.FindAsync(recording.Sid, scope))!);
    }

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

    /// <summary>Deletes a recording: its media first, so no ciphertext outlives its row.</summary>
    public async Task DeleteAsync(Recording recording, IMediaStore media)
    {
        if (recording.MediaKey is not null)
        {
            await media.DeleteAsync(recording.MediaKey);
        }
        await recordings.DeleteAsync(recording.Sid);
    }

    // A recording ends once: if it has ended meanwhile (another instance ended a dead one's, say),
    // it is returned as it is, with no second notification or callback.
    private Task<Recording> EndWithoutMediaAsync(Recording recording, RecordingStatus status, NewNotification? notification) =>
        ChangeAsync((scope, now) => recordings.EndWithoutMediaAsync(scope, recording.Sid, status, notification?.ErrorCode, now), notification,
            scope => recordings.FindAsync(recording.Sid, scope));

    // One transition: the change, and when it happened, its notification and its callback, committed
    // together; the callback is handed to the dispatcher as soon as the commit is durable.
    private async Task<Recording> ChangeAsync(Func<WriteScope, DateTimeOffset, Task<Recording?>> change, NewNotification? notification,
        Func<WriteScope, Task<Recording?>>? unchanged = null)
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
