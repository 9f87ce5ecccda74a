using System.Text.Json.Serialization;

namespace VoiceVault.Server.Api;

// The resources the API answers with, as Twilio shapes them: records whose property names become
// Twilio's snake_case names (TwilioJson), dates already in each API's format (RFC 2822 for
// /2010-04-01, ISO 8601 for /v1), and null where Twilio sends null.

public sealed record AccountResource(string AuthToken, string DateCreated, string DateUpdated, string FriendlyName, string OwnerAccountSid, string Sid,
    string Status, AccountSubresourceUris SubresourceUris, string Type, string Uri);

public sealed record AccountSubresourceUris(string Recordings, string Notifications, string Keys, string RecordingEncryption);

public sealed record ApiKeyResource(string Sid, string FriendlyName, string DateCreated, string DateUpdated, string Role);

/// <summary>A new API key: the one answer that carries its secret.</summary>
public sealed record NewApiKeyResource(string Sid, string FriendlyName, string DateCreated, string DateUpdated, string Secret, string Role);

public sealed record PublicKeyResource(string Sid, string AccountSid, string FriendlyName, string DateCreated, string DateUpdated, string Url);

/// <summary>A vault account's Twilio link: the Twilio account and the dates, never its tokens.</summary>
public sealed record TwilioLinkResource(string AccountSid, string TwilioAccountSid, string DateCreated, string DateUpdated, string Url);

public sealed record RecordingEncryptionResource(string AccountSid, bool Enabled, string? PublicKeySid, string? InheritedFrom, string? DateUpdated, string Uri);

/// <summary>A Recording; under a call's path it also says which track it holds, as Twilio's does.</summary>
/// <summary>Twilio's Recording resource; the fields in Twilio's order (the JSON keeps it). Built by name.</summary>
public sealed record RecordingResource
{
    public required string AccountSid { get; init; }
    public string ApiVersion { get; init; } = "2010-04-01";
    public required string CallSid { get; init; }
    public string? ConferenceSid { get; init; }
    public required string DateCreated { get; init; }
    public required string DateUpdated { get; init; }
    public required string StartTime { get; init; }
    public string? Duration { get; init; }
    public required string Sid { get; init; }
    public string? Price { get; init; }
    public string PriceUnit { get; init; } = "USD";
    public required string Status { get; init; }
    public required int Channels { get; init; }
    public required string Source { get; init; }
    public int? ErrorCode { get; init; }
    public required string Uri { get; init; }
    public EncryptionDetailsResource? EncryptionDetails { get; init; }
    public required RecordingSubresourceUris SubresourceUris { get; init; }
    public required string MediaUrl { get; init; }

    /// <summary>Only on the call-scoped resource (recording control), as Twilio answers there.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Track { get; init; }
}

/// <summary>Twilio's <c>encryption_details</c> of a Recording (the REST spelling; callbacks use another, docs/format.md).</summary>
public sealed record EncryptionDetailsResource(string Type, string? EncryptionPublicKeySid, string EncryptionCek, string Iv, string EncryptionIv);

public sealed record RecordingSubresourceUris(string AddOnResults, string Transcriptions);

public sealed record NotificationResource(string AccountSid, string ApiVersion, string? CallSid, string DateCreated, string DateUpdated, string ErrorCode,
    string Log, string MessageDate, string MessageText, string MoreInfo, string? RequestMethod, string RequestUrl, string RequestVariables,
    string ResponseBody, string ResponseHeaders, string Sid, string Uri);

/// <summary>The <c>/2010-04-01</c> list envelope; each list adds its items under the resource's plural.</summary>
public abstract record TwilioPage
{
    public int Page { get; init; }

    public int PageSize { get; init; }

    public int Start { get; init; }

    public int End { get; init; }

    public string Uri { get; init; } = "";

    public string FirstPageUri { get; init; } = "";

    public string? NextPageUri { get; init; }

    public string? PreviousPageUri { get; init; }
}

public sealed record AccountList(IReadOnlyList<AccountResource> Accounts) : TwilioPage;

public sealed record ApiKeyList(IReadOnlyList<ApiKeyResource> Keys) : TwilioPage;

public sealed record RecordingList(IReadOnlyList<RecordingResource> Recordings) : TwilioPage;

public sealed record NotificationList(IReadOnlyList<NotificationResource> Notifications) : TwilioPage;

/// <summary>The <c>/v1</c> list envelope: the items and <c>meta</c>.</summary>
public sealed record PublicKeyList(IReadOnlyList<PublicKeyResource> Credentials, PageMeta Meta);

/// <summary>One wrap of a recording's CEK (docs/api.md §7a), in the callback's spelling of the details plus where it belongs.</summary>
public sealed record EncryptionWrapResource(string RecordingSid, string AccountSid, string Type, string? PublicKeySid, string EncryptedCek, string Iv,
    string DateCreated, string Url);

public sealed record EncryptionWrapList(IReadOnlyList<EncryptionWrapResource> EncryptionDetails, PageMeta Meta);

/// <summary>An audit event (docs/audit.md): every field, nulls included, as hashed; <c>details</c> a small object.</summary>
public sealed record AuditEventResource(string Sid, string AccountSid, long Sequence, string DateCreated, string Action, string ActorType, string? ActorSid,
    string? ResourceSid, string? SourceIp, string? RequestId, string Outcome, System.Text.Json.JsonElement Details, string PreviousHash, string Hash, string Url);

public sealed record AuditEventList(IReadOnlyList<AuditEventResource> AuditEvents, PageMeta Meta);

/// <summary>A signed checkpoint of one account's chain (docs/audit.md).</summary>
public sealed record AuditCheckpointResource(string Sid, string AccountSid, long Sequence, string Hash, string DateCreated, string KeyId, string Signature, string Url);

public sealed record AuditCheckpointList(IReadOnlyList<AuditCheckpointResource> AuditCheckpoints, PageMeta Meta);

/// <summary>An audit signing key's public half (docs/audit.md): <c>active</c> signs new checkpoints, <c>retired</c> ones stay listed for the old.</summary>
public sealed record SigningKeyResource(string KeyId, string PublicKey, string DateCreated, string Status);

public sealed record SigningKeyList(IReadOnlyList<SigningKeyResource> SigningKeys, PageMeta Meta);

public sealed record PageMeta(int Page, int PageSize, string FirstPageUrl, string? PreviousPageUrl, string? NextPageUrl, string Url, string Key);

/// <summary>Every resource's JSON, generated at build time under Twilio's snake_case names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AccountResource))]
[JsonSerializable(typeof(AccountList))]
[JsonSerializable(typeof(ApiKeyResource))]
[JsonSerializable(typeof(NewApiKeyResource))]
[JsonSerializable(typeof(ApiKeyList))]
[JsonSerializable(typeof(PublicKeyResource))]
[JsonSerializable(typeof(PublicKeyList))]
[JsonSerializable(typeof(EncryptionWrapResource))]
[JsonSerializable(typeof(EncryptionWrapList))]
[JsonSerializable(typeof(RecordingEncryptionResource))]
[JsonSerializable(typeof(TwilioLinkResource))]
[JsonSerializable(typeof(RecordingResource))]
[JsonSerializable(typeof(RecordingList))]
[JsonSerializable(typeof(NotificationResource))]
[JsonSerializable(typeof(NotificationList))]
[JsonSerializable(typeof(AuditEventResource))]
[JsonSerializable(typeof(AuditEventList))]
[JsonSerializable(typeof(AuditCheckpointResource))]
[JsonSerializable(typeof(AuditCheckpointList))]
[JsonSerializable(typeof(SigningKeyList))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(HealthResource))]
public sealed partial class TwilioJson : JsonSerializerContext;

public sealed record HealthResource(string Status);
