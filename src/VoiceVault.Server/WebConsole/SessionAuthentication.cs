using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.WebConsole;

/// <summary>
/// The console's session cookie as a second way to call the API: the same endpoints, the same
/// tenant rules (<see cref="Access"/>), the caller the session was opened for. A request that
/// brings its own Authorization header is left to Basic.
/// </summary>
public sealed class SessionAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ConsoleSessions sessions) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ConsoleSession";

    /// <summary>Where the request's session is left for <see cref="CsrfMiddleware"/>.</summary>
    internal const string SessionItem = "voicevault:console_session";

    /// <summary>
    /// The cookie's name: under HTTPS the <c>__Host-</c> prefix makes the browser refuse it unless it
    /// is Secure, host-only and for path / — a sibling subdomain cannot plant or shadow it.
    /// </summary>
    public static string CookieName(HttpRequest request) => request.IsHttps ? "__Host-vv_console" : "vv_console";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers.Authorization.Count > 0 || !Request.Cookies.TryGetValue(CookieName(Request), out var token) || string.IsNullOrEmpty(token))
        {
            return AuthenticateResult.NoResult();
        }
        var session = await sessions.ResolveAsync(token, Context.RequestAborted);
        if (session is null)
        {
            return AuthenticateResult.Fail("The console session has ended");
        }
        Context.Items[SessionItem] = session;
        return AuthenticateResult.Success(Access.Ticket(new Caller(session.AccountSid, session.ApiKeySid, session.Auditor), SchemeName, ActorType.Console));
    }

    // Where Basic is also asked (the API), it has answered already: one body, Twilio's.
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Response.HasStarted ? Task.CompletedTask : ApiErrorMiddleware.Write(Context, ApiError.Of(20003, 401, "Sign in to the console"));

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Response.HasStarted ? Task.CompletedTask : ApiErrorMiddleware.Write(Context, ApiError.Of(20403, 403, "Forbidden"));
}

/// <summary>
/// CSRF: a state change made with the session cookie must carry the session's token in
/// <c>X-CSRF-Token</c>. A page on another site can make the browser send the cookie (were it not
/// SameSite=Strict) but can neither read the token nor set the header without a CORS preflight
/// that the vault never grants. Requests authenticated by Basic carry no ambient credentials and
/// need no token.
/// </summary>
public sealed class CsrfMiddleware(RequestDelegate next)
{
    public const string HeaderName = "X-CSRF-Token";

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Items[SessionAuthenticationHandler.SessionItem] is ConsoleSession session
            && !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method))
            && !ConsoleSessions.CsrfMatches(session, context.Request.Headers[HeaderName].ToString()))
        {
            throw new ApiException(20403, 403, $"The console's {HeaderName} header is missing or wrong: reload the page and try again");
        }
        return next(context);
    }
}
