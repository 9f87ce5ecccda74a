namespace VoiceVault.Server.Operations;

/// <summary>
/// The log lines written once per upload or per callback — hundreds a second under load — as
/// source-generated <see cref="LoggerMessageAttribute"/> methods: no boxing, no template parsing,
/// nothing formatted when the level is off. They carry SIDs, sizes and durations, never secrets.
/// </summary>
public static partial class HotPathLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Stored recording {RecordingSid} of {CallSid}: {Bytes} bytes, {Mode} key")]
    public static partial void RecordingStored(this ILogger log, string recordingSid, string callSid, long bytes, string? mode);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Delivered {Status} callback of {RecordingSid} in {Ms} ms after {Attempts} attempt(s)")]
    public static partial void CallbackDelivered(this ILogger log, string status, string recordingSid, double ms, int attempts);
}
