using System.Text;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Accounts;

/// <summary>
/// HTTP Basic authentication for the API: <c>AccountSid:AuthToken</c> or <c>SK…:secret</c>.
/// Wrong or missing credentials answer 401 with code 20003 and never reach an endpoint.
/// </summary>
public sealed class BasicAuthMiddleware(RequestDelegate next)
{
    private static readonly string[] Protected = ["/2010-04-01", "/v1"];

    public async Task InvokeAsync(HttpContext context, AccountDirectory accounts, VaultOptions options)
    {
        var path = context.Request.Path;
        if (Protected.Any(p => path.StartsWithSegments(p, StringComparison.Ordinal)))
        {
            // A media stream Twilio opens itself carries its signature instead of Basic credentials.
            bool signedStream = path.Equals(Live.MediaStreamEndpoint.Path, StringComparison.Ordinal) && context.Request.Headers.Authorization.Count == 0;
            var caller = (signedStream
                ? await Live.MediaStreamEndpoint.AuthenticateSignedAsync(context, accounts, options)
                : await AuthenticateAsync(context.Request.Headers.Authorization.ToString(), accounts)) ?? throw ApiException.Unauthenticated();
            context.Features.Set(caller);
        }
        await next(context);
    }

    public static async Task<Caller?> AuthenticateAsync(string header, AccountDirectory accounts)
    {
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon <= 0 ? null : await accounts.AuthenticateAsync(decoded[..colon], decoded[(colon + 1)..]);
    }
}

/// <summary>The tenant rules: an account acts on itself and on its subaccounts, never on a parent or a sibling.</summary>
public static class Access
{
    public static Caller Caller(this HttpContext context) =>
        context.Features.Get<Caller>() ?? throw ApiException.Unauthenticated();

    /// <summary>The account named in the URL, if the caller may act on it; otherwise 404, as if it did not exist.</summary>
    public static async Task<Account> AccountInScopeAsync(this HttpContext context, AccountDirectory accounts, string accountSid)
    {
        var caller = context.Caller();
        var account = Sid.Is(accountSid, "AC") ? await accounts.FindAsync(accountSid) : null;
        if (account is null || (account.Sid != caller.AccountSid && account.ParentSid != caller.AccountSid))
        {
            throw ApiException.NotFound($"/Accounts/{accountSid}");
        }
        return account;
    }
}
