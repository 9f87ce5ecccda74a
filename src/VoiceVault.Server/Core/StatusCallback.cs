using System.Globalization;

namespace VoiceVault.Server.Core;

/// <summary>Recording status callbacks (docs/api.md §8): which changes send one, and its parameters.</summary>
public static class StatusCallback
{
    public static readonly string[] Events = [.. Spelling.CallbackEvents.Select(s => s.Text())];

    /// <summary>The callback for <paramref name="recording"/>'s current status; null when it did not subscribe to it.</summary>
    public static NewOutboxMessage? For(Recording recording, string publicBaseUrl)
    {
        var status = recording.Status.Text();
        if (recording.CallbackUrl is null || !recording.CallbackEvents.Split(' ').Contains(status))
        {
            return null;
        }
        var parameters = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["AccountSid"] = recording.AccountSid,
            ["CallSid"] = recording.CallSid,
            ["RecordingSid"] = recording.Sid,
            ["RecordingUrl"] = publicBaseUrl.TrimEnd('/') + RecordingLifecycle.UriOf(recording),
            ["RecordingStatus"] = status,
            ["RecordingDuration"] = (recording.Duration ?? 0).ToString(CultureInfo.InvariantCulture),
            ["RecordingChannels"] = recording.Channels.ToString(CultureInfo.InvariantCulture),
            ["RecordingStartTime"] = Dates.Rfc2822(recording.StartTime),
            ["RecordingSource"] = recording.Source.Text(),
            ["RecordingTrack"] = recording.Track,
            ["ErrorCode"] = (recording.ErrorCode ?? 0).ToString(CultureInfo.InvariantCulture),
        };
        if (recording.Status == RecordingStatus.Completed && RecordingLifecycle.DetailsOf(recording) is { } details)
        {
            parameters["EncryptionDetails"] = details.ToCallbackJson();
        }
        return new NewOutboxMessage(recording.AccountSid, recording.Sid, recording.CallbackUrl, recording.CallbackMethod, Encode(parameters));
    }

    public static string Encode(IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join('&', parameters.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));

    public static List<KeyValuePair<string, string>> Decode(string payload) =>
        payload.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            return new KeyValuePair<string, string>(Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..]));
        }).ToList();
}

/// <summary>Where committed callbacks go to be delivered (the webhook dispatcher); called on the committing thread, must not block.</summary>
public interface ICallbackSender
{
    void Send(OutboxMessage message);
}
