namespace VoiceVault.Server.Operations;

/// <summary>
/// Every line the server writes to its log, as source-generated <see cref="LoggerMessageAttribute"/>
/// methods: no boxing, no template parsing, nothing formatted when the level is off, and one place
/// to read what an operator can see. Event ids by area: 1xxx uploads and recordings, 2xxx status
/// callbacks, 3xxx live calls, 4xxx instances and the cluster, 5xxx the API. Lines carry SIDs,
/// sizes, durations and hosts — never a token, a key, a callback URL's credentials or a query.
/// </summary>
public static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Stored recording {RecordingSid} of {CallSid}: {Bytes} bytes, {Mode} key")]
    public static partial void RecordingStored(this ILogger log, string recordingSid, string callSid, long bytes, string? mode);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Recording {RecordingSid} of {CallSid} failed: no usable encryption key (16104)")]
    public static partial void NoUsableKey(this ILogger log, string recordingSid, string callSid);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Upload of {RecordingSid} did not complete ({Reason}); recording is absent")]
    public static partial void UploadAbsent(this ILogger log, string recordingSid, string reason);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Recording {RecordingSid} could not be encrypted and stored; its bytes were deleted (16104)")]
    public static partial void UploadFailed(this ILogger log, string recordingSid);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Recording {RecordingSid} of {CallSid} started ({Channels}, track {Track})")]
    public static partial void LiveRecordingStarted(this ILogger log, string recordingSid, string callSid, string channels, string track);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Stored recording {RecordingSid} of {CallSid}: {Frames} frames, {Seconds} s, {Mode} key")]
    public static partial void LiveRecordingStored(this ILogger log, string recordingSid, string callSid, long frames, int? seconds, string? mode);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Recording {RecordingSid} of {CallSid} ended with no audio: absent")]
    public static partial void LiveRecordingAbsent(this ILogger log, string recordingSid, string callSid);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "Recording {RecordingSid} of {CallSid} ended {Status} ({ErrorCode}); its bytes were deleted")]
    public static partial void LiveRecordingFailed(this ILogger log, string recordingSid, string callSid, string status, int? errorCode);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Delivered {Status} callback of {RecordingSid} in {Ms} ms after {Attempts} attempt(s)")]
    public static partial void CallbackDelivered(this ILogger log, string status, string recordingSid, double ms, int attempts);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Callback of {RecordingSid} to {Host} failed ({Error}), attempt {Attempts}; {Next}")]
    public static partial void CallbackFailed(this ILogger log, string recordingSid, string host, string error, int attempts, string next);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Callback of {RecordingSid}: {Error}; not retried")]
    public static partial void CallbackUnsendable(this ILogger log, string recordingSid, string error);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Callback outbox scan failed; retrying")]
    public static partial void OutboxScanFailed(this ILogger log, Exception e);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "Marking {Count} delivered callbacks failed; retrying")]
    public static partial void OutboxMarkFailed(this ILogger log, Exception e, int count);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Call {CallSid} streaming (stream {StreamSid}, tracks {Tracks})")]
    public static partial void CallStreaming(this ILogger log, string callSid, string streamSid, string tracks);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Call {CallSid} (stream {StreamSid}) ended: {Outcome}")]
    public static partial void CallEnded(this ILogger log, string? callSid, string? streamSid, string outcome);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Media stream {StreamSid} of account {AccountSid}: {Problem}; closing")]
    public static partial void StreamProtocolError(this ILogger log, string? streamSid, string accountSid, string problem);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Call {CallSid} reached the maximum call length ({Seconds} s); ending it")]
    public static partial void CallTooLong(this ILogger log, string callSid, int seconds);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "Media stream {StreamSid}: ignoring an unknown event '{Event}'")]
    public static partial void UnknownStreamEvent(this ILogger log, string? streamSid, string @event);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Call {CallSid} streams into the instance at {Owner}, which did not answer a recording control request: {Problem}")]
    public static partial void CallOwnerSilent(this ILogger log, string callSid, string owner, string problem);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Instance {Instance}: heartbeat or recovery round failed; trying again in {Seconds} s")]
    public static partial void LeaseRoundFailed(this ILogger log, Exception e, string instance, double seconds);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Media key {Key}: an unfinished write of a recording that is {Status} was left in the store; aborted")]
    public static partial void StaleWriteAborted(this ILogger log, string key, string status);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Recording {RecordingSid} ({Status}) was left unfinished by a stopped instance: failed (16104), its bytes deleted")]
    public static partial void AbandonedRecordingEnded(this ILogger log, string recordingSid, string status);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Listening for cluster signals failed ({Problem}); cached credentials are dropped and listening starts again in 1 s")]
    public static partial void SignalsLost(this ILogger log, string problem);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    public static partial void Unhandled(this ILogger log, Exception e, string method, string path);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "The audit trail could not record {Method} {Path}, which was refused (503): {Reason}")]
    public static partial void AuditUnavailable(this ILogger log, string method, string path, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Failed authentications could not be counted into the audit trail now (kept for the next round): {Reason}")]
    public static partial void FailedAuthenticationsNotRecorded(this ILogger log, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Error, Message = "Audit checkpoints could not be made or sent now (tried again next round): {Reason}")]
    public static partial void CheckpointFailed(this ILogger log, string reason);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "The audit witness did not take checkpoint {Sequence} of {AccountSid}: {Reason}; again in {DelaySeconds} s")]
    public static partial void WitnessRefused(this ILogger log, string accountSid, long sequence, string reason, double delaySeconds);
}
