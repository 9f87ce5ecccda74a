using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Live;

/// <summary>
/// For media streams Twilio opens itself: it cannot send Basic credentials, and drops a query
/// string, but signs the upgrade request (<c>X-Twilio-Signature</c>) with the auth token of the
/// <em>Twilio</em> account. The vault account comes from the path
/// (<c>/v1/Ingest/MediaStream/{AccountSid}</c>; <c>?AccountSid=</c> for other clients); the
/// signature must verify with the token of that account's Twilio link (<see cref="TwilioLinks"/>)
/// over the stream's public URL. The linked Twilio account travels on as a claim: the stream's
/// <c>start.accountSid</c> must be it. A request with an Authorization header is left to Basic.
/// </summary>
public sealed class StreamSignatureAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AccountDirectory accounts, TwilioLinks links) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "TwilioSignature";
    private const string LinkedAccountClaim = "voicevault:twilio_account_sid";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var signature = Request.Headers["X-Twilio-Signature"].ToString();
        if (Request.Headers.Authorization.Count > 0 || signature.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }
        var accountSid = Request.RouteValues["accountSid"] as string ?? Request.Query["AccountSid"].ToString();
        var account = Sid.Is(accountSid, "AC") ? await accounts.FindAsync(accountSid) : null;
        if (account is not { IsActive: true })
        {
            return AuthenticateResult.Fail("A signed stream for no active account");
        }
        var link = await links.FindAsync(account.Sid);
        if (link is null)
        {
            return AuthenticateResult.Fail("A signed stream for an account with no Twilio link");
        }
        if (!links.Verifies(link, Request.PathBase + Request.Path + Request.QueryString, signature))
        {
            return AuthenticateResult.Fail("A stream signature that does not verify with the linked Twilio token");
        }
        var ticket = Access.Ticket(new Caller(account.Sid, null), SchemeName, ActorType.Twilio);
        ((ClaimsIdentity)ticket.Principal.Identity!).AddClaim(new Claim(LinkedAccountClaim, link.TwilioAccountSid));
        return AuthenticateResult.Success(ticket);
    }

    // Basic answers the challenge (Twilio's 401 body); one answer per request.
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Task.CompletedTask;

    /// <summary>The Twilio account a signed stream was verified for; null for a stream opened with Basic credentials.</summary>
    public static string? LinkedTwilioAccount(HttpContext context) => context.User.FindFirst(LinkedAccountClaim)?.Value;
}
