using Microsoft.AspNetCore.Http.HttpResults;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Accounts;

/// <summary>
/// <c>/v1/Accounts/{AccountSid}/TwilioLink</c> (our extension, docs/api.md §7): the Twilio account whose
/// calls this vault account records, so that the streams Twilio opens (signed with that account's
/// auth token) are accepted. The tokens are write-only: sealed when given, never answered.
/// </summary>
public static class TwilioLinkEndpoints
{
    public static void MapTwilioLinkEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/Accounts/{sid}/TwilioLink").WithTags("TwilioLink");

        api.MapPost("", async Task<Results<Created<TwilioLinkResource>, Ok<TwilioLinkResource>>> (string sid, HttpContext context, AccountDirectory accounts, TwilioLinks links) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var form = await context.ReadFormAsync();
            var twilioAccountSid = form["TwilioAccountSid"].ToString();
            if (!Sid.Is(twilioAccountSid, "AC"))
            {
                throw ApiException.BadParameter("TwilioAccountSid must be the SID of the Twilio account (or subaccount) whose calls stream here: AC and 32 hex digits", 20001);
            }
            var token = AuthToken(form, "TwilioAuthToken")
                ?? throw ApiException.BadParameter("TwilioAuthToken is required: the auth token of that Twilio account, which Twilio signs its streams with", 20001);
            var secondary = AuthToken(form, "TwilioSecondaryAuthToken");
            bool existed = await links.FindAsync(account.Sid) is not null;
            var link = await links.SetAsync(account.Sid, twilioAccountSid, token, secondary);
            return existed ? TypedResults.Ok(Json(link)) : TypedResults.Created((string?)null, Json(link));
        });

        api.MapGet("", async (string sid, HttpContext context, AccountDirectory accounts, TwilioLinks links) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var link = await links.FindAsync(account.Sid) ?? throw ApiException.NotFound($"/v1/Accounts/{account.Sid}/TwilioLink");
            return TypedResults.Ok(Json(link));
        });

        api.MapDelete("", async (string sid, HttpContext context, AccountDirectory accounts, TwilioLinks links) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            return await links.DeleteAsync(account.Sid) ? TypedResults.NoContent() : throw ApiException.NotFound($"/v1/Accounts/{account.Sid}/TwilioLink");
        });
    }

    // A Twilio auth token is 32 hex digits; anything else (an API key secret, a pasted SID, a
    // stray space) could never verify a signature, so it is refused here rather than silently.
    // The message never quotes what was given.
    private static string? AuthToken(IFormCollection form, string name)
    {
        if (!form.TryGetValue(name, out var value) || value.ToString().Length == 0)
        {
            return null;
        }
        var token = value.ToString();
        return token.Length == 32 && token.All(char.IsAsciiHexDigit)
            ? token
            : throw ApiException.BadParameter($"{name} must be a Twilio auth token: 32 hex digits, as the Twilio console shows it (an API key secret cannot sign streams)", 20001);
    }

    private static TwilioLinkResource Json(TwilioLink link) =>
        new(link.AccountSid, link.TwilioAccountSid, Dates.Iso(link.DateCreated), Dates.Iso(link.DateUpdated), $"/v1/Accounts/{link.AccountSid}/TwilioLink");
}
