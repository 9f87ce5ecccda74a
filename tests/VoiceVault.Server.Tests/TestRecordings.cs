using VoiceVault.Server.Core;

namespace VoiceVault.Server.Tests;

/// <summary>Recordings as the tests that talk to the core or the stores directly ask for them.</summary>
internal static class TestRecordings
{
    /// <summary>A mono recording of both tracks, started by the API, with a status callback when a URL is given.</summary>
    public static NewRecording New(string accountSid, string callSid, string? callbackUrl = null, string callbackEvents = "") => new()
    {
        AccountSid = accountSid,
        CallSid = callSid,
        Source = RecordingSource.StartCallRecordingApi,
        Track = "both",
        Channels = 1,
        CallbackUrl = callbackUrl,
        CallbackMethod = "POST",
        CallbackEvents = callbackEvents,
    };
}
