using VoiceVault.Crypto;
using VoiceVault.Server.Api;

namespace VoiceVault.Server.Recordings;

/// <summary>A recording row. <c>key_mode</c>: "customer" (rsa-aes to a public key), "server" (the server-managed key), or null (no media).</summary>
public sealed record Recording(
    long Seq, string Sid, string AccountSid, string CallSid, string Status, long? ErrorCode, long Channels, string Source, string Track,
    string StartTime, long? Duration, string? MediaKey, long? MediaSize, string? KeyMode, string? PublicKeySid, byte[]? EncryptedCek,
    byte[]? Iv, byte[]? ServerCekSealed, string? CallbackUrl, string CallbackMethod, string CallbackEvents, string DateCreated, string DateUpdated)
{
    public EncryptionDetails? Details => KeyMode == "customer" && EncryptedCek is not null && Iv is not null
        ? new EncryptionDetails(PublicKeySid, EncryptedCek, Iv)
        : null;

    public string Uri => $"/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}";

    /// <summary>The Recording resource as Twilio shapes it.</summary>
    public Dictionary<string, object?> ToJson(VaultOptions options, bool callScoped = false)
    {
        var json = new Dictionary<string, object?>
        {
            ["account_sid"] = AccountSid,
            ["api_version"] = "2010-04-01",
            ["call_sid"] = CallSid,
            ["conference_sid"] = null,
            ["date_created"] = Dates.Rfc2822(Dates.Parse(DateCreated)),
            ["date_updated"] = Dates.Rfc2822(Dates.Parse(DateUpdated)),
            ["start_time"] = Dates.Rfc2822(Dates.Parse(StartTime)),
            ["duration"] = Duration?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["sid"] = Sid,
            ["price"] = null,
            ["price_unit"] = "USD",
            ["status"] = Status,
            ["channels"] = Channels,
            ["source"] = Source,
            ["error_code"] = ErrorCode,
            ["uri"] = callScoped ? $"/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings/{Sid}.json" : Uri + ".json",
            ["encryption_details"] = Details is { } details ? System.Text.Json.Nodes.JsonNode.Parse(details.ToRestJson()) : null,
            ["subresource_uris"] = new Dictionary<string, object?>
            {
                ["add_on_results"] = Uri + "/AddOnResults.json",
                ["transcriptions"] = Uri + "/Transcriptions.json",
            },
            ["media_url"] = options.PublicBaseUrl.TrimEnd('/') + Uri,
        };
        if (callScoped)
        {
            json["track"] = Track;
        }
        return json;
    }
}
