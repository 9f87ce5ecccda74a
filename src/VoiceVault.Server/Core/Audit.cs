using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Core;

/// <summary>
/// The audited actions (docs/audit.md): the one list of what the vault records. An action not
/// named here is not written, and every name here is written by exactly one path.
/// </summary>
public static class AuditActions
{
    public const string RecordingCreate = "recording.create";
    public const string RecordingMediaRead = "recording.media.read";
    public const string RecordingRead = "recording.read";
    public const string RecordingWrapAdd = "recording.wrap.add";
    public const string RecordingControl = "recording.control";
    public const string RecordingDelete = "recording.delete";
    public const string PublicKeyCreate = "public_key.create";
    public const string PublicKeyDelete = "public_key.delete";
    public const string EncryptionSettingUpdate = "encryption_setting.update";
    public const string AccountCreate = "account.create";
    public const string AccountUpdate = "account.update";
    public const string ApiKeyCreate = "api_key.create";
    public const string ApiKeyDelete = "api_key.delete";
    public const string TwilioLinkUpdate = "twilio_link.update";
    public const string TwilioLinkDelete = "twilio_link.delete";
    public const string ConsoleSignIn = "console.sign_in";
    public const string ConsoleSignOut = "console.sign_out";
    public const string AuditExport = "audit.export";
    public const string AuditPrune = "audit.prune";
    public const string AuthFailed = "auth.failed";

    public static readonly IReadOnlyList<string> All =
    [
        RecordingCreate, RecordingMediaRead, RecordingRead, RecordingWrapAdd, RecordingControl, RecordingDelete, PublicKeyCreate, PublicKeyDelete,
        EncryptionSettingUpdate, AccountCreate, AccountUpdate, ApiKeyCreate, ApiKeyDelete, TwilioLinkUpdate, TwilioLinkDelete, ConsoleSignIn,
        ConsoleSignOut, AuditExport, AuditPrune, AuthFailed,
    ];
}

/// <summary>
/// What each audited access records (docs/audit.md): the event of each action, made in one place.
/// An event joins the chain of the account that owns what was touched, whoever the actor is.
/// </summary>
public static class Audited
{
    /// <summary>A recording's resource (its metadata and encryption details) was read.</summary>
    public static NewAuditEvent Read(Recording recording, Actor actor) =>
        new(recording.AccountSid, AuditActions.RecordingRead, actor, recording.Sid, AuditOutcome.Success);

    /// <summary>Media bytes are about to be sent: which ones, of how many.</summary>
    public static NewAuditEvent MediaRead(Recording recording, Actor actor, long offset, long count, long length) =>
        new(recording.AccountSid, AuditActions.RecordingMediaRead, actor, recording.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["delivery"] = "bytes",
            ["offset"] = offset,
            ["count"] = count,
            ["size"] = length,
        });

    /// <summary>The chain left the vault up to <paramref name="checkpoint"/> (<c>voicevault audit export</c>).</summary>
    public static NewAuditEvent Exported(AuditCheckpoint checkpoint, Actor actor) =>
        new(checkpoint.AccountSid, AuditActions.AuditExport, actor, checkpoint.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["sequence"] = checkpoint.Sequence,
        });

    /// <summary>The chain's events up to <paramref name="anchor"/> were pruned (<c>VoiceVault:Audit:RetentionDays</c>); the chain now starts after it.</summary>
    public static NewAuditEvent Pruned(AuditCheckpoint anchor, long events, int retentionDays) =>
        new(anchor.AccountSid, AuditActions.AuditPrune, Actor.System, anchor.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["up_to_sequence"] = anchor.Sequence,
            ["events"] = events,
            ["retention_days"] = retentionDays,
        });

    /// <summary>A recording began: how (upload, a call's API, a stream), of which call, in what state.</summary>
    public static NewAuditEvent RecordingCreated(Recording recording, Actor actor) =>
        new(recording.AccountSid, AuditActions.RecordingCreate, actor, recording.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["call_sid"] = recording.CallSid,
            ["source"] = recording.Source.Text(),
            ["status"] = recording.Status.Text(),
            ["channels"] = recording.Channels,
        });

    /// <summary>A live recording was paused, resumed or stopped on request.</summary>
    public static NewAuditEvent RecordingControlled(Recording recording, Actor actor, string status) =>
        new(recording.AccountSid, AuditActions.RecordingControl, actor, recording.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["call_sid"] = recording.CallSid,
            ["status"] = status,
        });

    /// <summary>Someone else can read the recording from now on: its CEK was wrapped to another public key.</summary>
    public static NewAuditEvent WrapAdded(Recording recording, Actor actor, PublicKey key) =>
        new(recording.AccountSid, AuditActions.RecordingWrapAdd, actor, recording.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["public_key_sid"] = key.Sid,
            ["fingerprint"] = key.Fingerprint,
        });

    /// <summary>A recording and its media are gone, and why (<see cref="DeletionReasons"/>).</summary>
    public static NewAuditEvent RecordingDeleted(Recording recording, Actor actor, string reason) =>
        new(recording.AccountSid, AuditActions.RecordingDelete, actor, recording.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["call_sid"] = recording.CallSid,
            ["reason"] = reason,
            ["status"] = recording.Status.Text(),
            ["had_media"] = recording.MediaKey is not null,
        });

    /// <summary>A console session opened or closed; <paramref name="session"/> names it without being it (a prefix of its token's SHA-256).</summary>
    public static NewAuditEvent Console(string accountSid, Actor actor, bool signIn, string session) =>
        new(accountSid, signIn ? AuditActions.ConsoleSignIn : AuditActions.ConsoleSignOut, actor, actor.Sid, AuditOutcome.Success,
            new Dictionary<string, object?> { ["session"] = session[..16] });

    /// <summary>
    /// Authentications that named <paramref name="c"/>'s credential failed from one address in one
    /// window: how many (never the secrets tried). The actor is who the credentials claimed to be.
    /// </summary>
    public static NewAuditEvent AuthenticationFailed(FailureCount c, TimeSpan window) =>
        new(c.AccountSid, AuditActions.AuthFailed, new Actor(c.CredentialSid.StartsWith("SK", StringComparison.Ordinal) ? ActorType.ApiKey : ActorType.Account,
                c.CredentialSid, c.Address == "*" ? null : c.Address, null),
            c.AccountSid, AuditOutcome.Denied, Window(c.WindowStart, window, c.Count));

    /// <summary>The rest of a window's failures against one account once it has its share of events: summed, with how many credentials and addresses.</summary>
    public static NewAuditEvent AuthenticationsFailed(string accountSid, IReadOnlyList<FailureCount> rest, TimeSpan window)
    {
        var details = Window(rest[0].WindowStart, window, rest.Sum(c => c.Count));
        details["credentials"] = rest.Select(c => c.CredentialSid).Distinct().Count();
        details["addresses"] = rest.Select(c => c.Address).Distinct().Count();
        return new(accountSid, AuditActions.AuthFailed, new Actor(ActorType.Account, null, null, null), accountSid, AuditOutcome.Denied, details);
    }

    private static Dictionary<string, object?> Window(DateTimeOffset start, TimeSpan window, long count) => new()
    {
        ["count"] = count,
        ["from"] = AuditChain.Date(start),
        ["until"] = AuditChain.Date(start + window),
    };

    public static NewAuditEvent PublicKeyCreated(PublicKey key, Actor actor) =>
        new(key.AccountSid, AuditActions.PublicKeyCreate, actor, key.Sid, AuditOutcome.Success, new Dictionary<string, object?> { ["fingerprint"] = key.Fingerprint });

    public static NewAuditEvent PublicKeyDeleted(PublicKey key, Actor actor) =>
        new(key.AccountSid, AuditActions.PublicKeyDelete, actor, key.Sid, AuditOutcome.Success, new Dictionary<string, object?> { ["fingerprint"] = key.Fingerprint });

    /// <summary>Who can read what this account records from now on: the setting as saved.</summary>
    public static NewAuditEvent EncryptionSettingUpdated(EncryptionSetting setting, Actor actor) =>
        new(setting.AccountSid, AuditActions.EncryptionSettingUpdate, actor, setting.AccountSid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["enabled"] = setting.Enabled,
            ["public_key_sid"] = setting.PublicKeySid,
        });

    /// <summary>An account's chain begins with its own creation (by its parent, or by the vault for the main account).</summary>
    public static NewAuditEvent AccountCreated(Account account, Actor actor) =>
        new(account.Sid, AuditActions.AccountCreate, actor, account.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["parent_sid"] = account.ParentSid,
            ["friendly_name"] = account.FriendlyName,
        });

    public static NewAuditEvent AccountUpdated(Account account, Actor actor) =>
        new(account.Sid, AuditActions.AccountUpdate, actor, account.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["friendly_name"] = account.FriendlyName,
            ["status"] = account.Status.Text(),
        });

    public static NewAuditEvent ApiKeyCreated(ApiKey key, Actor actor) =>
        new(key.AccountSid, AuditActions.ApiKeyCreate, actor, key.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["friendly_name"] = key.FriendlyName,
            ["role"] = key.Role.Text(),
        });

    public static NewAuditEvent ApiKeyDeleted(string accountSid, string keySid, Actor actor) =>
        new(accountSid, AuditActions.ApiKeyDelete, actor, keySid, AuditOutcome.Success);

    /// <summary>Which Twilio account may stream into this one (never its tokens).</summary>
    public static NewAuditEvent TwilioLinkUpdated(TwilioLink link, Actor actor) =>
        new(link.AccountSid, AuditActions.TwilioLinkUpdate, actor, link.AccountSid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["twilio_account_sid"] = link.TwilioAccountSid,
            ["secondary_token"] = link.SecondaryTokenSealed is not null,
        });

    public static NewAuditEvent TwilioLinkDeleted(string accountSid, Actor actor) =>
        new(accountSid, AuditActions.TwilioLinkDelete, actor, accountSid, AuditOutcome.Success);

    /// <summary>A direct link to the media (the object store's, pre-signed, at most 5 minutes) is about to be handed out: until when it works.</summary>
    public static NewAuditEvent MediaLink(Recording recording, Actor actor, DateTimeOffset expires) =>
        new(recording.AccountSid, AuditActions.RecordingMediaRead, actor, recording.Sid, AuditOutcome.Success, new Dictionary<string, object?>
        {
            ["delivery"] = "link",
            ["expires"] = AuditChain.Date(expires),
        });
}

/// <summary>Why a recording was deleted (<c>recording.delete</c>'s <c>reason</c>).</summary>
public static class DeletionReasons
{
    /// <summary>An API DELETE (the console's too).</summary>
    public const string Request = "request";
}

/// <summary>Who did it: an account by its token, an API key, a console session, Twilio (a signed stream), or the vault itself.</summary>
public enum ActorType
{
    Account,
    ApiKey,
    Console,
    Twilio,
    System,
}

/// <summary>How it ended.</summary>
public enum AuditOutcome
{
    Success,
    Denied,
    Failed,
}

/// <summary>Who acts, from where, in which request: what every event of a request shares.</summary>
public sealed record Actor(ActorType Type, string? Sid, string? SourceIp, string? RequestId)
{
    /// <summary>The vault acting on its own (a timer, a sweep): no address, no request.</summary>
    public static readonly Actor System = new(ActorType.System, null, null, null);
}

/// <summary>An event to record: what happened to which resource of which account (the one that owns it), by whom.</summary>
public sealed record NewAuditEvent(string AccountSid, string Action, Actor Actor, string? ResourceSid, AuditOutcome Outcome,
    IReadOnlyDictionary<string, object?>? Details = null);

/// <summary>An event as the chain holds it and the API serves it (docs/audit.md).</summary>
public sealed record AuditEvent
{
    public required string Sid { get; init; }
    public required string AccountSid { get; init; }
    public required long Sequence { get; init; }
    public required string DateCreated { get; init; }
    public required string Action { get; init; }
    public required string ActorType { get; init; }
    public required string? ActorSid { get; init; }
    public required string? ResourceSid { get; init; }
    public required string? SourceIp { get; init; }
    public required string? RequestId { get; init; }
    public required string Outcome { get; init; }

    /// <summary>The details object in its canonical JSON (RFC 8785), as hashed.</summary>
    public required string Details { get; init; }

    public required string PreviousHash { get; init; }
    public required string Hash { get; init; }
}

/// <summary>
/// The chain's arithmetic, byte for byte as docs/audit.md gives it: an event's hash is SHA-256 over
/// the 32 bytes of the previous hash followed by the RFC 8785 (JCS) serialization of the event as
/// served without <c>hash</c> and <c>url</c>.
/// </summary>
public static class AuditChain
{
    /// <summary>The previous hash of sequence 1.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>The format of <c>date_created</c>: UTC, milliseconds.</summary>
    public static string Date(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Spell(ActorType type) => type switch
    {
        Core.ActorType.Account => "account",
        Core.ActorType.ApiKey => "api_key",
        Core.ActorType.Console => "console",
        Core.ActorType.Twilio => "twilio",
        _ => "system",
    };

    public static string Spell(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Success => "success",
        AuditOutcome.Denied => "denied",
        _ => "failed",
    };

    /// <summary>The event's fields as served, without <c>hash</c> and <c>url</c>, in canonical JSON.</summary>
    public static string Canonical(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["account_sid"] = Jcs.String(e.AccountSid),
            ["action"] = Jcs.String(e.Action),
            ["actor_sid"] = Jcs.String(e.ActorSid),
            ["actor_type"] = Jcs.String(e.ActorType),
            ["date_created"] = Jcs.String(e.DateCreated),
            ["details"] = e.Details,
            ["outcome"] = Jcs.String(e.Outcome),
            ["previous_hash"] = Jcs.String(e.PreviousHash),
            ["request_id"] = Jcs.String(e.RequestId),
            ["resource_sid"] = Jcs.String(e.ResourceSid),
            ["sequence"] = e.Sequence.ToString(CultureInfo.InvariantCulture),
            ["sid"] = Jcs.String(e.Sid),
            ["source_ip"] = Jcs.String(e.SourceIp),
        };
        return Jcs.Object(fields);
    }

    /// <summary>The hash of <paramref name="e"/> (its own <c>Hash</c> is not read).</summary>
    public static string HashOf(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var canonical = Encoding.UTF8.GetBytes(Canonical(e));
        var input = new byte[32 + canonical.Length];
        Convert.FromHexString(e.PreviousHash).CopyTo(input, 0);
        canonical.CopyTo(input, 32);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }

    /// <summary>The event a new one becomes at <paramref name="sequence"/> after <paramref name="previousHash"/>, hashed.</summary>
    public static AuditEvent Link(NewAuditEvent e, string sid, long sequence, string previousHash, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(e);
        var linked = new AuditEvent
        {
            Sid = sid,
            AccountSid = e.AccountSid,
            Sequence = sequence,
            DateCreated = Date(now),
            Action = e.Action,
            ActorType = Spell(e.Actor.Type),
            ActorSid = e.Actor.Sid,
            ResourceSid = e.ResourceSid,
            SourceIp = e.Actor.SourceIp,
            RequestId = e.Actor.RequestId,
            Outcome = Spell(e.Outcome),
            Details = Jcs.Value(e.Details ?? new Dictionary<string, object?>()),
            PreviousHash = previousHash,
            Hash = "",
        };
        return linked with { Hash = HashOf(linked) };
    }
}

/// <summary>The filters of <c>GET /v1/Accounts/{AccountSid}/AuditEvents</c>.</summary>
public sealed record AuditFilter(string AccountSid, string? StartDate, string? EndDate, string? Action, string? ResourceSid, string? ActorSid, bool Ascending);

/// <summary>Where the chains are kept (migration 0008), one per account.</summary>
public interface IAuditStore
{
    /// <summary>
    /// Appends <paramref name="events"/> to their accounts' chains inside the caller's transaction:
    /// each chain's head is locked (PostgreSQL: its row, FOR UPDATE; SQLite has one writer), each
    /// event takes the next sequence and links to the hash before it, and the heads move on.
    /// Returns the events as linked, in the order given.
    /// </summary>
    Task<IReadOnlyList<AuditEvent>> AppendAsync(WriteScope scope, IReadOnlyList<NewAuditEvent> events, DateTimeOffset now);

    /// <summary>One page of a chain in <paramref name="filter"/>'s order (plus one row, when there is a next page); the cursor runs over <c>sequence</c>.</summary>
    Task<IReadOnlyList<AuditEvent>> PageAsync(AuditFilter filter, PageCursor cursor, CancellationToken cancellationToken = default);

    Task<AuditEvent?> FindAsync(string accountSid, string sid, CancellationToken cancellationToken = default);

    /// <summary>Every signing key, newest first (read in <paramref name="scope"/> when given).</summary>
    Task<IReadOnlyList<StoredSigningKey>> SigningKeysAsync(WriteScope? scope = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds <paramref name="key"/> as the active key; with <paramref name="rotate"/> the active one
    /// before it is retired, without it there must be none (the one-active-key index refuses a second).
    /// </summary>
    Task AddSigningKeyAsync(WriteScope scope, StoredSigningKey key, bool rotate);

    /// <summary>A chain's head, locked for the rest of <paramref name="scope"/>; null for a chain with no events yet.</summary>
    Task<(long Sequence, string Hash)?> HeadAsync(WriteScope scope, string accountSid);

    Task<AuditCheckpoint?> CheckpointAtAsync(WriteScope scope, string accountSid, long sequence);

    /// <summary>Adds a checkpoint; <paramref name="witnessed"/>: pending for the witness, due now.</summary>
    Task AddCheckpointAsync(WriteScope scope, AuditCheckpoint checkpoint, bool witnessed, DateTimeOffset now);

    /// <summary>One page of a chain's checkpoints, newest first (plus one row, when there is a next page).</summary>
    Task<IReadOnlyList<AuditCheckpoint>> CheckpointPageAsync(string accountSid, PageCursor cursor, CancellationToken cancellationToken = default);

    Task<AuditCheckpoint?> FindCheckpointAsync(string accountSid, string sid, CancellationToken cancellationToken = default);

    /// <summary>
    /// For each chain with events older than <paramref name="before"/> beyond its anchor, the newest
    /// checkpoint that signs an event older than that: where it may be pruned to.
    /// </summary>
    Task<IReadOnlyList<AuditCheckpoint>> PruneCandidatesAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    /// <summary>Deletes the chain's events up to <paramref name="anchor"/> and makes it the chain's anchor; how many went.</summary>
    Task<long> PruneAsync(WriteScope scope, AuditCheckpoint anchor);

    /// <summary>The accounts whose chain has events after its newest checkpoint.</summary>
    Task<IReadOnlyList<string>> ChainsAheadOfCheckpointsAsync(CancellationToken cancellationToken = default);

    /// <summary>Claims up to <paramref name="limit"/> checkpoints due for the witness, leased until <paramref name="leaseUntil"/>; oldest first.</summary>
    Task<IReadOnlyList<WitnessDelivery>> ClaimWitnessAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken = default);

    /// <summary>The witness took it (null <paramref name="next"/>), or it is due again at <paramref name="next"/> after <paramref name="error"/>.</summary>
    Task WitnessAnsweredAsync(string sid, int attempts, string? error, DateTimeOffset? next);

    /// <summary>Adds an instance's counts of failed authentications to every instance's (summed per window, account, credential and address).</summary>
    Task AddFailuresAsync(WriteScope scope, IReadOnlyList<FailureCount> counts);

    /// <summary>Removes and returns the counts of windows that began before <paramref name="before"/>: whoever takes them writes their events.</summary>
    Task<IReadOnlyList<FailureCount>> TakeFailuresAsync(WriteScope scope, DateTimeOffset before);
}

/// <summary>Failed authentications naming <see cref="CredentialSid"/> (of <see cref="AccountSid"/>) from one client address in one window.</summary>
public sealed record FailureCount(DateTimeOffset WindowStart, string AccountSid, string CredentialSid, string Address, long Count);
