using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
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
        api.MapPost("", SetAsync);
        api.MapGet("", FetchAsync);
        api.MapDelete("", DeleteAsync);
    }

    /// <summary>The Twilio account and its auth tokens (the secondary one during a rotation).</summary>
    public sealed record LinkForm(
        [FromForm(Name = "TwilioAccountSid")] string? TwilioAccountSid,
        [FromForm(Name = "TwilioAuthToken")] string? TwilioAuthToken,
        [FromForm(Name = "TwilioSecondaryAuthToken")] string? TwilioSecondaryAuthToken)
    {
        public (string AccountSid, string Token, string? Secondary) Validate()
        {
            if (!Sid.Is(TwilioAccountSid ?? "", "AC"))
            {
                throw ApiException.BadParameter("TwilioAccountSid must be the SID of the Twilio account (or subaccount) whose calls stream here: AC and 32 hex digits", 20001);
            }
            var token = AuthToken(TwilioAuthToken, "TwilioAuthToken")
                ?? throw ApiException.BadParameter("TwilioAuthToken is required: the auth token of that Twilio account, which Twilio signs its streams with", 20001);
            return (TwilioAccountSid!, token, AuthToken(TwilioSecondaryAuthToken, "TwilioSecondaryAuthToken"));
        }

        // A Twilio auth token is 32 hex digits; anything else (an API key secret, a pasted SID, a
        // stray space) could never verify a signature, so it is refused here rather than silently.
        // The message never quotes what was given.
        private static string? AuthToken(string? token, string name) =>
            string.IsNullOrEmpty(token) ? null
            : token.Length == 32 && token.All(char.IsAsciiHexDigit) ? token
            : throw ApiException.BadParameter($"{name} must be a Twilio auth token: 32 hex digits, as the Twilio console shows it (an API key secret cannot sign streams)", 20001);
    }

    private static async Task<Results<Created<TwilioLinkResource>, Ok<TwilioLinkResource>>> SetAsync(string sid, [AsParameters] LinkForm form, HttpContext context,
        AccountDirectory accounts, TwilioLinks links)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var (twilioAccountSid, token, secondary) = form.Validate();
        bool existed = await links.FindAsync(account.Sid) is not null;
        var link = await links.SetAsync(account.Sid, twilioAccountSid, token, secondary, context.Actor());
        return existed ? TypedResults.Ok(Json(link)) : TypedResults.Created((string?)null, Json(link));
    }

    private static async Task<Ok<TwilioLinkResource>> FetchAsync(string sid, HttpContext context, AccountDirectory accounts, TwilioLinks links)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var link = await links.FindAsync(account.Sid) ?? throw ApiException.NotFound($"/v1/Accounts/{account.Sid}/TwilioLink");
        return TypedResults.Ok(Json(link));
    }

    private static async Task<NoContent> DeleteAsync(string sid, HttpContext context, AccountDirectory accounts, TwilioLinks links)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        return await links.DeleteAsync(account.Sid, context.Actor()) ? TypedResults.NoContent() : throw ApiException.NotFound($"/v1/Accounts/{account.Sid}/TwilioLink");
    }

    private static TwilioLinkResource Json(TwilioLink link) =>
        new(link.AccountSid, link.TwilioAccountSid, Dates.Iso(link.DateCreated), Dates.Iso(link.DateUpdated), $"/v1/Accounts/{link.AccountSid}/TwilioLink");
}
