using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Audit;

/// <summary>
/// <c>/v1/Accounts/{AccountSid}/AuditEvents</c> (docs/audit.md): one account's chain, readable by
/// that account and its parent, never by a subaccount or a sibling. Every field is served, nulls
/// included, exactly as hashed.
/// </summary>
public static class AuditEndpoints
{
    public static void MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        // Everything here is what an auditor key is for (docs/audit.md) — creating a checkpoint too: an export starts with one.
        var api = app.MapGroup("/v1/Accounts/{sid}/AuditEvents").WithTags("Audit").AllowAuditors();
        api.MapGet("", ListAsync);
        api.MapGet("/{eventSid}", FetchAsync);
        var checkpoints = app.MapGroup("/v1/Accounts/{sid}/AuditCheckpoints").WithTags("Audit").AllowAuditors();
        checkpoints.MapGet("", ListCheckpointsAsync);
        checkpoints.MapPost("", CreateCheckpointAsync);
        checkpoints.MapGet("/{checkpointSid}", FetchCheckpointAsync);
        app.MapGet("/v1/Audit/SigningKeys", SigningKeysAsync).WithTags("Audit").AllowAuditors();
        app.MapPost("/v1/Accounts/{sid}/AuditExports", ExportedAsync).WithTags("Audit").AllowAuditors();
    }

    /// <summary>What <c>voicevault audit export</c> reports when it is done: the checkpoint its export stops at.</summary>
    public sealed record ExportForm([FromForm(Name = "CheckpointSid")] string? CheckpointSid);

    /// <summary>Records that the chain left the vault (<c>audit.export</c>), up to one of its checkpoints: 201 with the event.</summary>
    private static async Task<Created<AuditEventResource>> ExportedAsync(string sid, [AsParameters] ExportForm form, HttpContext context, AccountDirectory accounts,
        AuditTrail audit)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var checkpoint = Sid.Is(form.CheckpointSid ?? "", "CP") ? await audit.Store.FindCheckpointAsync(account.Sid, form.CheckpointSid!, context.RequestAborted) : null;
        if (checkpoint is null)
        {
            throw ApiException.BadParameter($"CheckpointSid '{form.CheckpointSid}' is not a checkpoint of {account.Sid}'s chain", 20001);
        }
        var recorded = await audit.RecordAsync(Audited.Exported(checkpoint, context.Actor()));
        return TypedResults.Created($"/v1/Accounts/{account.Sid}/AuditEvents/{recorded.Sid}", Json(recorded));
    }

    private static async Task<Ok<AuditCheckpointList>> ListCheckpointsAsync(string sid, [AsParameters] PageQuery paging, HttpContext context, AccountDirectory accounts,
        AuditTrail audit)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var request = paging.Request();
        var rows = await audit.Store.CheckpointPageAsync(account.Sid, request.Cursor, context.RequestAborted);
        var page = Page<AuditCheckpoint>.Of(rows, c => c.Sequence, request, descending: true);
        return TypedResults.Ok(new AuditCheckpointList(page.Items.Select(Json).ToList(), page.ToV1Meta("audit_checkpoints", $"/v1/Accounts/{account.Sid}/AuditCheckpoints")));
    }

    /// <summary>A checkpoint of the chain's head now (the one already made at that sequence, if any): 201.</summary>
    private static async Task<Created<AuditCheckpointResource>> CreateCheckpointAsync(string sid, HttpContext context, AccountDirectory accounts, AuditCheckpoints checkpoints)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var made = await checkpoints.CreateAsync(account.Sid) ?? throw ApiException.NotFound($"/v1/Accounts/{sid}/AuditCheckpoints");
        return TypedResults.Created(AuditSignatures.UrlOf(made), Json(made));
    }

    private static async Task<Ok<AuditCheckpointResource>> FetchCheckpointAsync(string sid, string checkpointSid, HttpContext context, AccountDirectory accounts, AuditTrail audit)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var found = Sid.Is(checkpointSid, "CP") ? await audit.Store.FindCheckpointAsync(account.Sid, checkpointSid, context.RequestAborted) : null;
        return TypedResults.Ok(Json(found ?? throw ApiException.NotFound($"/AuditCheckpoints/{checkpointSid}")));
    }

    /// <summary>Every audit signing key's public half, newest first: anyone signed in may check a signature.</summary>
    private static async Task<Ok<SigningKeyList>> SigningKeysAsync(HttpContext context, AuditSigner signer)
    {
        var keys = await signer.KeysAsync(context.RequestAborted);
        const string url = "/v1/Audit/SigningKeys";
        return TypedResults.Ok(new SigningKeyList(keys.Select(k => new SigningKeyResource(k.KeyId, k.PublicKey, k.DateCreated, k.Status)).ToList(),
            new PageMeta(0, Math.Max(keys.Count, 1), url, null, null, url, "signing_keys")));
    }

    public static AuditCheckpointResource Json(AuditCheckpoint c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return new AuditCheckpointResource(c.Sid, c.AccountSid, c.Sequence, c.Hash, c.DateCreated, c.KeyId, c.Signature, AuditSignatures.UrlOf(c));
    }

    /// <summary>The list's filters, in the query as docs/audit.md names them.</summary>
    public sealed record EventQuery(
        [FromQuery(Name = "StartDate")] string? StartDate,
        [FromQuery(Name = "EndDate")] string? EndDate,
        [FromQuery(Name = "Action")] string? Action,
        [FromQuery(Name = "ResourceSid")] string? ResourceSid,
        [FromQuery(Name = "ActorSid")] string? ActorSid,
        [FromQuery(Name = "Order")] string? Order)
    {
        public AuditFilter For(string accountSid)
        {
            if (Action is not null && !AuditActions.All.Contains(Action))
            {
                throw ApiException.BadParameter($"Action '{Action}' is not an audited action; see docs/audit.md for the list", 20001);
            }
            bool ascending = Order switch
            {
                null or "" or "desc" => false,
                "asc" => true,
                _ => throw ApiException.BadParameter($"Order must be asc or desc; got '{Order}'", 20001),
            };
            return new AuditFilter(accountSid, Instant(StartDate, "StartDate"), Instant(EndDate, "EndDate"), Action, Empty(ResourceSid), Empty(ActorSid), ascending);
        }

        /// <summary>The filters as given, for the paging links.</summary>
        public IEnumerable<KeyValuePair<string, string?>> Links() =>
        [
            new("StartDate", StartDate), new("EndDate", EndDate), new("Action", Action), new("ResourceSid", ResourceSid), new("ActorSid", ActorSid), new("Order", Order),
        ];

        private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

        // ISO 8601 in, the chain's own date format out, so the store compares like with like.
        private static string? Instant(string? value, string name)
        {
            if (string.IsNullOrEmpty(value))
            {
                return null;
            }
            return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant)
                ? AuditChain.Date(instant)
                : throw ApiException.BadParameter($"{name} must be an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T09:30:00Z; got '{value}'", 20001);
        }
    }

    private static async Task<Ok<AuditEventList>> ListAsync(string sid, [AsParameters] EventQuery query, [AsParameters] PageQuery paging, HttpContext context,
        AccountDirectory accounts, AuditTrail audit)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var filter = query.For(account.Sid);
        var request = paging.Request();
        var rows = await audit.Store.PageAsync(filter, request.Cursor, context.RequestAborted);
        var page = Page<AuditEvent>.Of(rows, e => e.Sequence, request, descending: !filter.Ascending);
        var url = $"/v1/Accounts/{account.Sid}/AuditEvents";
        return TypedResults.Ok(new AuditEventList(page.Items.Select(Json).ToList(), page.ToV1Meta("audit_events", url, query.Links())));
    }

    private static async Task<Ok<AuditEventResource>> FetchAsync(string sid, string eventSid, HttpContext context, AccountDirectory accounts, AuditTrail audit)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var found = Sid.Is(eventSid, "AE") ? await audit.Store.FindAsync(account.Sid, eventSid, context.RequestAborted) : null;
        return TypedResults.Ok(Json(found ?? throw ApiException.NotFound($"/AuditEvents/{eventSid}")));
    }

    public static AuditEventResource Json(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var details = JsonDocument.Parse(e.Details);
        return new AuditEventResource(e.Sid, e.AccountSid, e.Sequence, e.DateCreated, e.Action, e.ActorType, e.ActorSid, e.ResourceSid, e.SourceIp, e.RequestId,
            e.Outcome, details.RootElement.Clone(), e.PreviousHash, e.Hash, $"/v1/Accounts/{e.AccountSid}/AuditEvents/{e.Sid}");
    }
}
