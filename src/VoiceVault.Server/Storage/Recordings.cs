namespace VoiceVault.Server.Storage;

/// <summary>Where a recording is in its life (see <c>Core/RecordingLifecycle</c> for the transitions).</summary>
public enum RecordingStatus
{
    /// <summary>An upload being encrypted and stored.</summary>
    Processing,
    /// <summary>A live call's recording, taking frames.</summary>
    InProgress,
    Paused,
    Completed,
    /// <summary>Ended with no audio.</summary>
    Absent,
    /// <summary>Ended without media because it could not be encrypted and stored (16104).</summary>
    Failed,
}

/// <summary>What started a recording, as Twilio names it in <c>source</c>.</summary>
public enum RecordingSource
{
    StartCallRecordingApi,
}

/// <summary>How a recording's CEK is kept: wrapped to the customer's public key, or sealed under the server's master key.</summary>
public enum MediaKeyMode
{
    Customer,
    Server,
}

/// <summary>A recording, with its media's place and keys once it has media.</summary>
public sealed record Recording(
    long Seq, string Sid, string AccountSid, string CallSid, RecordingStatus Status, int? ErrorCode, int Channels, RecordingSource Source, string Track,
    DateTimeOffset StartTime, int? Duration, string? MediaKey, long? MediaSize, MediaKeyMode? KeyMode, string? PublicKeySid, byte[]? EncryptedCek,
    byte[]? Iv, byte[]? ServerCekSealed, string? CallbackUrl, string CallbackMethod, string CallbackEvents, DateTimeOffset DateCreated, DateTimeOffset DateUpdated)
{
    /// <summary>A recording still being stored or recorded.</summary>
    public bool IsUnfinished => Status is RecordingStatus.Processing or RecordingStatus.InProgress or RecordingStatus.Paused;
}

/// <summary>What a new recording is asked to be.</summary>
public sealed record NewRecording(string AccountSid, string CallSid, RecordingSource Source, string Track, int Channels, string? CallbackUrl, string CallbackMethod, string CallbackEvents);

/// <summary>The media of a completed recording: where it is and how its CEK is kept.</summary>
public sealed record StoredMedia(string MediaKey, long MediaSize, int Channels, int Duration, MediaKeyMode KeyMode, string? PublicKeySid, byte[]? EncryptedCek, byte[] Iv, byte[]? ServerCekSealed);

/// <summary>A filter on an account's recordings: by call, by creation time (inclusive bounds).</summary>
public sealed record RecordingFilter(string AccountSid, string? CallSid = null, DateTimeOffset? From = null, DateTimeOffset? Until = null,
    IReadOnlyList<RecordingStatus>? Statuses = null, string? PublicKeySid = null);

/// <summary>One wrap of a recording's CEK (SPEC §7a): to which public key, and when it was made.</summary>
public sealed record RecordingWrap(string? PublicKeySid, byte[] EncryptedCek, DateTimeOffset DateCreated);

/// <summary>
/// Keyset paging over a list's sequence numbers, newest or oldest first as the list runs: the
/// rows after <see cref="After"/> or before <see cref="Before"/>, at most <see cref="Size"/> of
/// them (stores return one more, to tell whether another page follows).
/// </summary>
public sealed record PageCursor(int Size, long? After = null, long? Before = null);

/// <summary>Recordings. Every change goes through <c>Core/RecordingLifecycle</c>, in its transaction.</summary>
public interface IRecordingStore
{
    /// <summary>
    /// Creates a recording, owned by <paramref name="owner"/> (the instance storing or recording it;
    /// see <see cref="IInstanceStore"/>) in the same statement batch — one round trip.
    /// </summary>
    Task<Recording> CreateAsync(WriteScope scope, string sid, NewRecording recording, RecordingStatus status, string? owner, DateTimeOffset now);

    Task<Recording> CompleteAsync(WriteScope scope, string sid, StoredMedia media, DateTimeOffset now);

    /// <summary>Ends an unfinished recording without media; null (and no change) when it has already ended.</summary>
    Task<Recording?> EndWithoutMediaAsync(WriteScope scope, string sid, RecordingStatus status, int? errorCode, DateTimeOffset now);

    /// <summary>Sets the status of an unfinished recording (pause, resume); null when it has ended.</summary>
    Task<Recording?> SetUnfinishedStatusAsync(WriteScope scope, string sid, RecordingStatus status, DateTimeOffset now);

    Task<Recording?> FindAsync(string sid, WriteScope? scope = null, CancellationToken cancellationToken = default);

    Task<Recording?> FindAsync(string accountSid, string sid, CancellationToken cancellationToken = default);

    /// <summary>One page of recordings, newest first (plus one row, when there is a next page).</summary>
    Task<IReadOnlyList<Recording>> PageAsync(RecordingFilter filter, PageCursor cursor, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string sid);

    /// <summary>How many recordings name this public key (for the warning before it is deleted).</summary>
    Task<int> CountUsingKeyAsync(string publicKeySid, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes a new wrap the recording's current one, keeping every earlier wrap (the first re-wrap
    /// files the original too); null when the recording is gone or not customer-encrypted.
    /// </summary>
    Task<Recording?> AddWrapAsync(string sid, string publicKeySid, byte[] encryptedCek, DateTimeOffset now);

    /// <summary>Every wrap of the recording, newest first.</summary>
    Task<IReadOnlyList<RecordingWrap>> ListWrapsAsync(Recording recording, CancellationToken cancellationToken = default);
}
