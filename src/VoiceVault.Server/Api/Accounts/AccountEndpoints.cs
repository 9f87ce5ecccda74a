using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Accounts;

/// <summary><c>/2010-04-01/Accounts</c>: the account, its subaccounts, and API keys.</summary>
public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/2010-04-01/Accounts").WithTags("Accounts");
        // The list lives at /Accounts.json, beside the group (a group would insert a '/').
        app.MapPost("/2010-04-01/Accounts.json", CreateSubaccountAsync).WithTags("Accounts");
        app.MapGet("/2010-04-01/Accounts.json", ListAsync).WithTags("Accounts").AllowAuditors();
        api.MapGet("/{sid}.json", FetchAsync).AllowAuditors();
        api.MapPost("/{sid}.json", UpdateAsync);
        api.MapPost("/{sid}/Keys.json", CreateKeyAsync);
        api.MapGet("/{sid}/Keys.json", ListKeysAsync);
        api.MapGet("/{sid}/Keys/{keySid}.json", FetchKeyAsync);
        api.MapDelete("/{sid}/Keys/{keySid}.json", DeleteKeyAsync);
    }

    /// <summary>A friendly name, as creating a subaccount or an API key takes it.</summary>
    public sealed record NameForm([FromForm(Name = "FriendlyName")] string? FriendlyName)
    {
        public string? Name => FormFields.FriendlyName(FriendlyName);
    }

    /// <summary>What the list of accounts filters on: exact name and status.</summary>
    public sealed record AccountFilter([FromQuery(Name = "FriendlyName")] string? FriendlyName, [FromQuery(Name = "Status")] string? Status);

    /// <summary>What an update may change: the name, and (a parent's, of a subaccount) the status.</summary>
    public sealed record UpdateForm([FromForm(Name = "FriendlyName")] string? FriendlyName, [FromForm(Name = "Status")] string? Status)
    {
        public (string? Name, AccountStatus? Status) Validate() =>
            (FormFields.FriendlyName(FriendlyName), Status is null ? null
                : Spelling.TryParseAccountStatus(Status, out var parsed) ? parsed
                : throw ApiException.BadParameter($"Status must be active, suspended or closed; got '{Status}'", 20001));
    }

    private static async Task<Created<AccountResource>> CreateSubaccountAsync([AsParameters] NameForm form, HttpContext context, AccountDirectory accounts)
    {
        var self = (await accounts.FindAsync(context.Caller().AccountSid))!;
        if (self.ParentSid is not null)
        {
            throw new ApiException(20403, 403, "A subaccount cannot create subaccounts");
        }
        var name = form.Name ?? "";
        var (account, _) = await accounts.CreateAsync(self.Sid, string.IsNullOrEmpty(name) ? $"SubAccount Created at {Dates.Rfc2822(DateTimeOffset.UtcNow)}" : name, context.Actor());
        return TypedResults.Created((string?)null, Json(account, accounts));
    }

    private static async Task<Ok<AccountList>> ListAsync([AsParameters] AccountFilter filter, [AsParameters] PageQuery paging, HttpContext context, AccountDirectory accounts)
    {
        var family = await accounts.Store.ListFamilyAsync(context.Caller().AccountSid);
        var filtered = family
            .Where(a => filter.FriendlyName is null || a.FriendlyName == filter.FriendlyName)
            .Where(a => filter.Status is null || a.Status.Text() == filter.Status);
        var page = Page<Account>.Of(filtered, a => a.Seq, paging.Request(), descending: false);
        return TypedResults.Ok(page.ToV2010(new AccountList(page.Items.Select(a => Json(a, accounts)).ToList()), "/2010-04-01/Accounts.json"));
    }

    private static async Task<Ok<AccountResource>> FetchAsync(string sid, HttpContext context, AccountDirectory accounts) =>
        TypedResults.Ok(Json(await context.AccountInScopeAsync(accounts, sid), accounts));

    private static async Task<Ok<AccountResource>> UpdateAsync(string sid, [AsParameters] UpdateForm form, HttpContext context, AccountDirectory accounts)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var (name, status) = form.Validate();
        if (status is not null)
        {
            if (account.Sid == context.Caller().AccountSid)
            {
                throw new ApiException(20403, 403, "An account cannot change its own status; its parent account can");
            }
            if (account.Status == AccountStatus.Closed && status != AccountStatus.Closed)
            {
                throw ApiException.BadParameter("A closed account cannot be reopened", 20001);
            }
        }
        return TypedResults.Ok(Json(await accounts.UpdateAsync(account, name, status, context.Actor()), accounts));
    }

    /// <summary>A new API key: its name, and its role — <c>full</c> (the default) or <c>auditor</c> (docs/audit.md).</summary>
    public sealed record KeyForm([FromForm(Name = "FriendlyName")] string? FriendlyName, [FromForm(Name = "Role")] string? Role)
    {
        public string? Name => FormFields.FriendlyName(FriendlyName);

        public ApiKeyRole KeyRole => string.IsNullOrEmpty(Role) ? ApiKeyRole.Full
            : Spelling.TryParseApiKeyRole(Role) ?? throw ApiException.BadParameter($"Role must be full or auditor; got '{Role}'", 20001);
    }

    private static async Task<Created<NewApiKeyResource>> CreateKeyAsync(string sid, [AsParameters] KeyForm form, HttpContext context, AccountDirectory accounts)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var (key, secret) = await accounts.CreateApiKeyAsync(account.Sid, form.Name ?? "", form.KeyRole, context.Actor());
        var date = Dates.Rfc2822(key.DateCreated);
        return TypedResults.Created((string?)null, new NewApiKeyResource(key.Sid, key.FriendlyName, date, date, secret, key.Role.Text()));
    }

    private static async Task<Ok<ApiKeyList>> ListKeysAsync(string sid, [AsParameters] PageQuery paging, HttpContext context, AccountDirectory accounts)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var page = Page<ApiKey>.Of(await accounts.Store.ListApiKeysAsync(account.Sid), k => k.Seq, paging.Request(), descending: false);
        return TypedResults.Ok(page.ToV2010(new ApiKeyList(page.Items.Select(KeyJson).ToList()), $"/2010-04-01/Accounts/{account.Sid}/Keys.json"));
    }

    private static async Task<Ok<ApiKeyResource>> FetchKeyAsync(string sid, string keySid, HttpContext context, AccountDirectory accounts)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var key = await accounts.Store.FindApiKeyAsync(account.Sid, keySid) ?? throw ApiException.NotFound($"/Keys/{keySid}");
        return TypedResults.Ok(KeyJson(key));
    }

    private static async Task<NoContent> DeleteKeyAsync(string sid, string keySid, HttpContext context, AccountDirectory accounts)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        return await accounts.DeleteApiKeyAsync(account.Sid, keySid, context.Actor()) ? TypedResults.NoContent() : throw ApiException.NotFound($"/Keys/{keySid}");
    }

    private static ApiKeyResource KeyJson(ApiKey key) => new(key.Sid, key.FriendlyName, Dates.Rfc2822(key.DateCreated), Dates.Rfc2822(key.DateUpdated), key.Role.Text());

    public static AccountResource Json(Account account, AccountDirectory accounts)
    {
        var uri = $"/2010-04-01/Accounts/{account.Sid}";
        return new AccountResource(accounts.TokenOf(account), Dates.Rfc2822(account.DateCreated), Dates.Rfc2822(account.DateUpdated), account.FriendlyName,
            account.ParentSid ?? account.Sid, account.Sid, account.Status.Text(),
            new AccountSubresourceUris($"{uri}/Recordings.json", $"{uri}/Notifications.json", $"{uri}/Keys.json", $"{uri}/RecordingEncryption.json"),
            "Full", $"{uri}.json");
    }
}
