using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api;

/// <summary>
/// HTTP Basic for the API: <c>AccountSid:AuthToken</c> or <c>SK…:secret</c>. Every endpoint needs
/// it unless it says otherwise (the fallback policy), so a new endpoint is never open by mistake.
/// Wrong or missing credentials answer 401 with Twilio's code 20003 and never reach an endpoint.
/// </summary>
public sealed class BasicAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AccountDirectory accounts, AuthenticationThrottle throttle) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Basic";

    private TimeSpan? _throttled;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        string? decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            decoded = null;
        }
        int colon = decoded?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        var user = colon > 0 ? decoded![..colon] : null;
        var secret = user is null ? null : decoded![(colon + 1)..];
        var verified = user is null ? null : accounts.Verified(user, secret!);
        // A caller out of tries is not even checked: its guess, right or wrong, teaches it nothing.
        if (await throttle.RefusalAsync(Context, user, verifiedHere: verified is not null) is { } wait)
        {
            _throttled = wait;
            return AuthenticateResult.Fail("Too many failed authentications");
        }
        var caller = verified ?? (user is null ? null : await accounts.AuthenticateAsync(user, secret!));
        if (caller is null)
        {
            await throttle.FailedAsync(Context, user);
            return AuthenticateResult.Fail(decoded is null ? "Basic credentials that are not base64" : "Wrong credentials");
        }
        await throttle.SucceededAsync(Context, user!);
        return AuthenticateResult.Success(Access.Ticket(caller, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Response.HasStarted)
        {
            return Task.CompletedTask;
        }
        return ApiErrorMiddleware.Write(Context, _throttled is { } wait ? AuthenticationThrottle.TooMany(wait) : ApiException.Unauthenticated());
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Response.HasStarted ? Task.CompletedTask : ApiErrorMiddleware.Write(Context, ApiError.Of(20403, 403, "Forbidden"));
}

/// <summary>The tenant rules: an account acts on itself and on its subaccounts, never on a parent or a sibling.</summary>
public static class Access
{
    private const string AccountClaim = "voicevault:account_sid";
    private const string ApiKeyClaim = "voicevault:api_key_sid";

    private const string ActorClaim = "voicevault:actor_type";

    private const string AuditorClaim = "voicevault:auditor";

    /// <summary>What an authentication handler hands on: the caller as claims, and how it came (for the audit trail's <c>actor_type</c>).</summary>
    public static AuthenticationTicket Ticket(Caller caller, string scheme, ActorType? how = null)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var type = how ?? (caller.ApiKeySid is null ? ActorType.Account : ActorType.ApiKey);
        var claims = new List<Claim> { new(AccountClaim, caller.AccountSid), new(ActorClaim, type.ToString()) };
        if (caller.ApiKeySid is not null)
        {
            claims.Add(new Claim(ApiKeyClaim, caller.ApiKeySid));
        }
        if (caller.Auditor)
        {
            claims.Add(new Claim(AuditorClaim, "true"));
        }
        return new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, scheme)), scheme);
    }

    public static Caller Caller(this HttpContext context) =>
        context.User.FindFirst(AccountClaim)?.Value is { } account
            ? new Caller(account, context.User.FindFirst(ApiKeyClaim)?.Value, context.IsAuditor())
            : throw ApiException.Unauthenticated();

    /// <summary>Whether the caller signed in with an auditor key (<see cref="AuditorAccess"/>).</summary>
    public static bool IsAuditor(this HttpContext context) => context?.User.HasClaim(AuditorClaim, "true") == true;

    /// <summary>
    /// The caller as the audit trail names it: how it authenticated, the API key or account it
    /// used, its address (after trusted proxies' forwarded headers), and the request's ID.
    /// </summary>
    public static Actor Actor(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var type = Enum.TryParse<ActorType>(context.User.FindFirst(ActorClaim)?.Value, out var how) ? how : ActorType.Account;
        return context.Actor(type, context.Caller());
    }

    /// <summary>The actor of a request that authenticates itself in its body (the console's sign-in): as <paramref name="caller"/>, by <paramref name="type"/>.</summary>
    public static Actor Actor(this HttpContext context, ActorType type, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(caller);
        return new Actor(type, caller.ApiKeySid ?? caller.AccountSid, context.ClientAddress()?.ToString(), context.TraceIdentifier);
    }

    /// <summary>The client's address (after trusted proxies' forwarded headers), IPv4 as IPv4.</summary>
    public static System.Net.IPAddress? ClientAddress(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = context.Connection.RemoteIpAddress;
        return address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
    }

    /// <summary>The account named in the URL, if the caller may act on it; otherwise 404, as if it did not exist.</summary>
    public static async Task<Account> AccountInScopeAsync(this HttpContext context, AccountDirectory accounts, string accountSid) =>
        await context.InScopeAsync(accounts, accountSid) ?? throw ApiException.NotFound($"/Accounts/{accountSid}");

    /// <summary>
    /// Whether the caller may act on a resource of <paramref name="accountSid"/>: for resources found
    /// by their own SID, which answer their own 404 (as if they did not exist) when it may not.
    /// </summary>
    public static async Task<bool> MayActOnAsync(this HttpContext context, AccountDirectory accounts, string accountSid) =>
        await context.InScopeAsync(accounts, accountSid) is not null;

    private static Task<Account?> InScopeAsync(this HttpContext context, AccountDirectory accounts, string accountSid) =>
        accounts.InScopeAsync(context.Caller().AccountSid, accountSid);
}
