using Microsoft.Extensions.Primitives;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api;

/// <summary>The Recording* parameters shared by both ingest paths: an upload's query, a call-control form and a Media Stream's custom parameters.</summary>
public sealed record RecordingParameters(string? Url, string Method, string Events, string Channels, string Track)
{
    /// <summary>The recording these parameters ask for, of <paramref name="channels"/> channels.</summary>
    public NewRecording For(string accountSid, string callSid, RecordingSource source, int channels) => new()
    {
        AccountSid = accountSid,
        CallSid = callSid,
        Source = source,
        Track = Track,
        Channels = channels,
        CallbackUrl = Url,
        CallbackMethod = Method,
        CallbackEvents = Events,
    };

    /// <summary>
    /// The Recording* parameters as given (null: not given) — in an upload's query or a call-control
    /// form, each with its own request record — validated once, here, for both.
    /// </summary>
    public static RecordingParameters From(string? callbackUrl, string? callbackMethod, StringValues? callbackEvents, string? recordingChannels,
        string? recordingTrack, Webhooks.CallbackAddresses addresses)
    {
        string? url = string.IsNullOrEmpty(callbackUrl) ? null : callbackUrl;
        if (url is not null)
        {
            // The URL is not echoed: it may carry credentials (user:password@), which no answer repeats.
            if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || Webhooks.CallbackUrl.Host(parsed) is not { Length: > 0 })
            {
                throw ApiException.BadParameter(
                    "RecordingStatusCallback is not an absolute http or https URL" + (parsed is { Scheme: var scheme } && scheme is not ("http" or "https") ? $" (its scheme is {scheme})" : ""), 21609);
            }
            if (addresses.RefusalOfLiteral(parsed) is { } why)
            {
                throw ApiException.BadParameter($"RecordingStatusCallback {Webhooks.CallbackUrl.Shown(url)} is refused: {why}, which the vault does not call", 21609);
            }
        }
        var method = string.IsNullOrEmpty(callbackMethod) ? "POST" : callbackMethod.ToUpperInvariant();
        if (method is not ("GET" or "POST"))
        {
            throw ApiException.BadParameter($"RecordingStatusCallbackMethod must be GET or POST; got '{callbackMethod}'", 21610);
        }
        var events = callbackEvents is { } given
            ? given.SelectMany(v => (v ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).Distinct().ToArray()
            : ["completed"];
        foreach (var ev in events)
        {
            if (!StatusCallback.Events.Contains(ev))
            {
                throw ApiException.BadParameter($"RecordingStatusCallbackEvent '{ev}' is not one of {string.Join(", ", StatusCallback.Events)}", 20001);
            }
        }
        var channels = string.IsNullOrEmpty(recordingChannels) ? "mono" : recordingChannels;
        if (channels is not ("mono" or "dual"))
        {
            throw ApiException.BadParameter($"RecordingChannels must be mono or dual; got '{recordingChannels}'", 20001);
        }
        var track = string.IsNullOrEmpty(recordingTrack) ? "both" : recordingTrack;
        if (track is not ("inbound" or "outbound" or "both"))
        {
            throw ApiException.BadParameter($"RecordingTrack must be inbound, outbound or both; got '{recordingTrack}'", 20001);
        }
        return new RecordingParameters(url, method, string.Join(' ', events), channels, track);
    }
}
