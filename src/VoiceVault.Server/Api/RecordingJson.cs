using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api;

/// <summary>The Recording resource of a stored recording: one shape for the list and fetch endpoints, an upload's answer and the call-scoped endpoints of live calls.</summary>
public static class RecordingJson
{
    public static RecordingResource Of(Recording recording, VaultOptions options, bool callScoped = false)
    {
        var uri = RecordingLifecycle.UriOf(recording);
        var details = RecordingLifecycle.DetailsOf(recording);
        return new RecordingResource
        {
            AccountSid = recording.AccountSid,
            CallSid = recording.CallSid,
            DateCreated = Dates.Rfc2822(recording.DateCreated),
            DateUpdated = Dates.Rfc2822(recording.DateUpdated),
            StartTime = Dates.Rfc2822(recording.StartTime),
            Duration = recording.Duration?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Sid = recording.Sid,
            Status = recording.Status.Text(),
            Channels = recording.Channels,
            Source = recording.Source.Text(),
            ErrorCode = recording.ErrorCode,
            Uri = callScoped ? $"/2010-04-01/Accounts/{recording.AccountSid}/Calls/{recording.CallSid}/Recordings/{recording.Sid}.json" : uri + ".json",
            EncryptionDetails = details is null ? null : new EncryptionDetailsResource(Crypto.RecordingFormat.Type, details.PublicKeySid,
                Convert.ToBase64String(details.EncryptedCek), Convert.ToBase64String(details.Iv), Convert.ToBase64String(details.Iv)),
            SubresourceUris = new RecordingSubresourceUris(uri + "/AddOnResults.json", uri + "/Transcriptions.json"),
            MediaUrl = options.PublicBaseUrl.TrimEnd('/') + uri,
            Track = callScoped ? recording.Track : null,
        };
    }
}
