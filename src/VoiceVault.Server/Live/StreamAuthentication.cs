using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Live;

/// <summary>
/// For media streams Twilio opens itself: it cannot send Basic credentials but signs the upgrade
/// request (<c>X-Twilio-Signature</c>). The URL must carry <c>AccountSid</c>; the signature is
/// checked with that account's token over the public URL (<c>VoiceVault:PublicBaseUrl</c> as
/// ws/wss, path and query). A request with an Authorization header is left to Basic.
/// </summary>
public sealed class StreamSignatureAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AccountDirectory accounts, VaultOptions vault) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "TwilioSignature";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var signature = Request.Headers["X-Twilio-Signature"].ToString();
        if (Request.Headers.Authorization.Count > 0 || signature.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }
        var accountSid = Request.Query["AccountSid"].ToString();
        var account = Sid.Is(accountSid, "AC") ? await accounts.FindAsync(accountSid) : null;
        if (account is not { IsActive: true })
        {
            return AuthenticateResult.Fail("A signed stream for no active account");
        }
        var publicBase = vault.PublicBaseUrl.TrimEnd('/');
        var wsBase = publicBase.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? "wss://" + publicBase[8..]
            : publicBase.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? "ws://" + publicBase[7..] : publicBase;
        var url = wsBase + Request.Path + Request.QueryString;
        return TwilioSignature.Verify(accounts.TokenOf(account), url, [], signature)
            ? AuthenticateResult.Success(Access.Ticket(new Caller(account.Sid, null), SchemeName))
            : AuthenticateResult.Fail("A stream signature that does not verify");
    }

    // Basic answers the challenge (Twilio's 401 body); one answer per request.
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Task.CompletedTask;
}
