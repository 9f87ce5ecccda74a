using VoiceVault.Server.Core;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Api.Recordings;

/// <summary>The Recording resource as Twilio shapes it.</summary>
public static class RecordingJson
{
    public static Dictionary<string, object?> Of(Recording recording, VaultOptions options, bool callScoped = false)
    {
        var uri = RecordingLifecycle.UriOf(recording);
        var json = new Dictionary<string, object?>
        {
            ["account_sid"] = recording.AccountSid,
            ["api_version"] = "2010-04-01",
            ["call_sid"] = recording.CallSid,
            ["conference_sid"] = null,
            ["date_created"] = Dates.Rfc2822(recording.DateCreated),
            ["date_updated"] = Dates.Rfc2822(recording.DateUpdated),
            ["start_time"] = Dates.Rfc2822(recording.StartTime),
            ["duration"] = recording.Duration?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["sid"] = recording.Sid,
            ["price"] = null,
            ["price_unit"] = "USD",
            ["status"] = recording.Status.Text(),
            ["channels"] = recording.Channels,
            ["source"] = recording.Source.Text(),
            ["error_code"] = recording.ErrorCode,
            ["uri"] = callScoped ? $"/2010-04-01/Accounts/{recording.AccountSid}/Calls/{recording.CallSid}/Recordings/{recording.Sid}.json" : uri + ".json",
            ["encryption_details"] = RecordingLifecycle.DetailsOf(recording) is { } details ? System.Text.Json.Nodes.JsonNode.Parse(details.ToRestJson()) : null,
            ["subresource_uris"] = new Dictionary<string, object?>
            {
                ["add_on_results"] = uri + "/AddOnResults.json",
                ["transcriptions"] = uri + "/Transcriptions.json",
            },
            ["media_url"] = options.PublicBaseUrl.TrimEnd('/') + uri,
        };
        if (callScoped)
        {
            json["track"] = recording.Track;
        }
        return json;
    }
}
