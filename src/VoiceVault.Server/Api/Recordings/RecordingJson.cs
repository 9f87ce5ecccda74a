using VoiceVault.Server.Core;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Api.Recordings;

/// <summary>The Recording resource of a stored recording.</summary>
public static class RecordingJson
{
    public static RecordingResource Of(Recording recording, VaultOptions options, bool callScoped = false)
    {
        var uri = RecordingLifecycle.UriOf(recording);
        var details = RecordingLifecycle.DetailsOf(recording);
        return new RecordingResource(recording.AccountSid, "2010-04-01", recording.CallSid, null, Dates.Rfc2822(recording.DateCreated), Dates.Rfc2822(recording.DateUpdated),
            Dates.Rfc2822(recording.StartTime), recording.Duration?.ToString(System.Globalization.CultureInfo.InvariantCulture), recording.Sid, null, "USD",
            recording.Status.Text(), recording.Channels, recording.Source.Text(), recording.ErrorCode,
            callScoped ? $"/2010-04-01/Accounts/{recording.AccountSid}/Calls/{recording.CallSid}/Recordings/{recording.Sid}.json" : uri + ".json",
            details is null ? null : new EncryptionDetailsResource(Crypto.RecordingFormat.Type, details.PublicKeySid, Convert.ToBase64String(details.EncryptedCek),
                Convert.ToBase64String(details.Iv), Convert.ToBase64String(details.Iv)),
            new RecordingSubresourceUris(uri + "/AddOnResults.json", uri + "/Transcriptions.json"),
            options.PublicBaseUrl.TrimEnd('/') + uri,
            callScoped ? recording.Track : null);
    }
}
