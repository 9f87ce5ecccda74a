namespace VoiceVault.Server.Core;

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

/// <summary>
/// A recording, with its media's place and keys once it has media. Built by name: a field that is
/// optional (nullable) is added here, in the migrations and in the store's reader, and nowhere else.
/// </summary>
public sealed record Recording
{
    public required long Seq { get; init; }
    public required string Sid { get; init; }
    public required string AccountSid { get; init; }
    public required string CallSid { get; init; }
    public required RecordingStatus Status { get; init; }
    public int? ErrorCode { get; init; }
    public required int Channels { get; init; }
    public required RecordingSource Source { get; init; }
    public required string Track { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    public int? Duration { get; init; }
    public string? MediaKey { get; init; }
    public long? MediaSize { get; init; }
    public MediaKeyMode? KeyMode { get; init; }
    public string? PublicKeySid { get; init; }
    public byte[]? EncryptedCek { get; init; }
    public byte[]? Iv { get; init; }
    public byte[]? ServerCekSealed { get; init; }
    public string? CallbackUrl { get; init; }
    public required string CallbackMethod { get; init; }
    public required string CallbackEvents { get; init; }

    /// <summary>When retention deletes the recording (none: kept until deleted by hand); set when it completes.</summary>
    public DateTimeOffset? DeleteAfter { get; init; }

    /// <summary>Until when nobody may delete it (none: it may be deleted at any time); set when it completes.</summary>
    public DateTimeOffset? RetainUntil { get; init; }

    public required DateTimeOffset DateCreated { get; init; }
    public required DateTimeOffset DateUpdated { get; init; }

    /// <summary>A recording still being stored or recorded.</summary>
    public bool IsUnfinished => Status.IsUnfinished();
}

/// <summary>What a new recording is asked to be.</summary>
public sealed record NewRecording
{
    public required string AccountSid { get; init; }
    public required string CallSid { get; init; }
    public required RecordingSource Source { get; init; }
    public required string Track { get; init; }
    public required int Channels { get; init; }
    public string? CallbackUrl { get; init; }
    public required string CallbackMethod { get; init; }
    public required string CallbackEvents { get; init; }
}

/// <summary>The media of a completed recording: where it is and how its CEK is kept.</summary>
public sealed record StoredMedia
{
    public required string MediaKey { get; init; }
    public required long MediaSize { get; init; }
    public required int Channels { get; init; }
    public required int Duration { get; init; }
    public required MediaKeyMode KeyMode { get; init; }
    public string? PublicKeySid { get; init; }
    public byte[]? EncryptedCek { get; init; }
    public required byte[] Iv { get; init; }
    public byte[]? ServerCekSealed { get; init; }
}

/// <summary>A filter on an account's recordings: by call, by creation time (inclusive bounds).</summary>
public sealed record RecordingFilter(string AccountSid, string? CallSid = null, DateTimeOffset? From = null, DateTimeOffset? Until = null,
    IReadOnlyList<RecordingStatus>? Statuses = null, string? PublicKeySid = null);

/// <summary>One wrap of a recording's CEK (docs/api.md §7a): to which public key, and when it was made.</summary>
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

    /// <summary>Deletes the recording's rows (its wraps with it); false when it was gone already.</summary>
    Task<bool> DeleteAsync(WriteScope scope, string sid);

    /// <summary>How many recordings name this public key (for the warning before it is deleted).</summary>
    Task<int> CountUsingKeyAsync(string publicKeySid, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes a new wrap the recording's current one, keeping every earlier wrap (the first re-wrap
    /// files the original too); null when the recording is gone or not customer-encrypted.
    /// </summary>
    Task<Recording?> AddWrapAsync(WriteScope scope, string sid, string publicKeySid, byte[] encryptedCek, DateTimeOffset now);

    /// <summary>Every wrap of the recording, newest first.</summary>
    Task<IReadOnlyList<RecordingWrap>> ListWrapsAsync(Recording recording, CancellationToken cancellationToken = default);
}
