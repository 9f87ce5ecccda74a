using VoiceVault.Server.Api;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Accounts;

/// <summary><c>/2010-04-01/Accounts</c>: the account, its subaccounts, and API keys.</summary>
public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/2010-04-01/Accounts").WithTags("Accounts");

        // The list lives at /Accounts.json, beside the group (a group would insert a '/').
        app.MapPost("/2010-04-01/Accounts.json", async (HttpContext context, AccountDirectory accounts) =>
        {
            var caller = context.Caller();
            var self = (await accounts.FindAsync(caller.AccountSid))!;
            if (self.ParentSid is not null)
            {
                throw new ApiException(20403, 403, "A subaccount cannot create subaccounts");
            }
            var name = FormFields.FriendlyName(await context.ReadFormAsync()) ?? "";
            var (account, _) = await accounts.CreateAsync(self.Sid, string.IsNullOrEmpty(name) ? $"SubAccount Created at {Dates.Rfc2822(DateTimeOffset.UtcNow)}" : name);
            return TypedResults.Created((string?)null, Json(account, accounts));
        });

        app.MapGet("/2010-04-01/Accounts.json", async (HttpContext context, AccountDirectory accounts) =>
        {
            var caller = context.Caller();
            var family = await accounts.Store.ListFamilyAsync(caller.AccountSid);
            var query = context.Request.Query;
            var filtered = family
                .Where(a => !query.TryGetValue("FriendlyName", out var n) || a.FriendlyName == n)
                .Where(a => !query.TryGetValue("Status", out var s) || a.Status.Text() == s);
            var page = Page<Account>.Of(filtered, a => a.Seq, PageRequest.From(query), descending: false);
            return TypedResults.Ok(page.ToV2010(new AccountList(page.Items.Select(a => Json(a, accounts)).ToList()), "/2010-04-01/Accounts.json"));
        });

        api.MapGet("/{sid}.json", async (string sid, HttpContext context, AccountDirectory accounts) =>
            TypedResults.Ok(Json(await context.AccountInScopeAsync(accounts, sid), accounts)));

        api.MapPost("/{sid}.json", async (string sid, HttpContext context, AccountDirectory accounts) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var form = await context.ReadFormAsync();
            string? name = FormFields.FriendlyName(form);
            AccountStatus? status = null;
            if (form.TryGetValue("Status", out var s))
            {
                if (!Spelling.TryParseAccountStatus(s.ToString(), out var parsed))
                {
                    throw ApiException.BadParameter($"Status must be active, suspended or closed; got '{s}'", 20001);
                }
                status = parsed;
                if (account.Sid == context.Caller().AccountSid)
                {
                    throw new ApiException(20403, 403, "An account cannot change its own status; its parent account can");
                }
                if (account.Status == AccountStatus.Closed && status != AccountStatus.Closed)
                {
                    throw ApiException.BadParameter("A closed account cannot be reopened", 20001);
                }
            }
            return TypedResults.Ok(Json(await accounts.UpdateAsync(account, name, status), accounts));
        });

        api.MapPost("/{sid}/Keys.json", async (string sid, HttpContext context, AccountDirectory accounts) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var form = await context.ReadFormAsync();
            var (key, secret) = await accounts.CreateApiKeyAsync(account.Sid, FormFields.FriendlyName(form) ?? "");
            var date = Dates.Rfc2822(key.DateCreated);
            return TypedResults.Created((string?)null, new NewApiKeyResource(key.Sid, key.FriendlyName, date, date, secret));
        });

        api.MapGet("/{sid}/Keys.json", async (string sid, HttpContext context, AccountDirectory accounts) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var page = Page<ApiKey>.Of(await accounts.Store.ListApiKeysAsync(account.Sid), k => k.Seq, PageRequest.From(context.Request.Query), descending: false);
            return TypedResults.Ok(page.ToV2010(new ApiKeyList(page.Items.Select(KeyJson).ToList()), $"/2010-04-01/Accounts/{account.Sid}/Keys.json"));
        });

        api.MapGet("/{sid}/Keys/{keySid}.json", async (string sid, string keySid, HttpContext context, AccountDirectory accounts) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var key = await accounts.Store.FindApiKeyAsync(account.Sid, keySid) ?? throw ApiException.NotFound($"/Keys/{keySid}");
            return TypedResults.Ok(KeyJson(key));
        });

        api.MapDelete("/{sid}/Keys/{keySid}.json", async (string sid, string keySid, HttpContext context, AccountDirectory accounts) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            return await accounts.DeleteApiKeyAsync(account.Sid, keySid) ? TypedResults.NoContent() : throw ApiException.NotFound($"/Keys/{keySid}");
        });
    }

    private static ApiKeyResource KeyJson(ApiKey key) => new(key.Sid, key.FriendlyName, Dates.Rfc2822(key.DateCreated), Dates.Rfc2822(key.DateUpdated));

    public static AccountResource Json(Account account, AccountDirectory accounts)
    {
        var uri = $"/2010-04-01/Accounts/{account.Sid}";
        return new AccountResource(accounts.TokenOf(account), Dates.Rfc2822(account.DateCreated), Dates.Rfc2822(account.DateUpdated), account.FriendlyName,
            account.ParentSid ?? account.Sid, account.Sid, account.Status.Text(),
            new AccountSubresourceUris($"{uri}/Recordings.json", $"{uri}/Notifications.json", $"{uri}/Keys.json", $"{uri}/RecordingEncryption.json"),
            "Full", $"{uri}.json");
    }
}
