using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.WebConsole;

/// <summary>Sign-in: an account SID and auth token, or an API key SID and secret.</summary>
public sealed record SignIn(string? Sid, string? Secret);

/// <summary>The signed-in session as the console's script sees it; the CSRF token is readable only by same-origin script.</summary>
public sealed record SessionResource(string AccountSid, string? ParentSid, string FriendlyName, string? ApiKeySid, string CsrfToken, int IdleSeconds,
    string ExpiresAt);

/// <summary>How many recordings are wrapped to a public key (the delete warning).</summary>
public sealed record KeyUsageResource(string PublicKeySid, int Recordings);

// The one JSON the vault reads is a flat sign-in object: nesting deeper than that is refused early.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, MaxDepth = 4)]
[JsonSerializable(typeof(SignIn))]
[JsonSerializable(typeof(SessionResource))]
[JsonSerializable(typeof(KeyUsageResource))]
public sealed partial class ConsoleJson : JsonSerializerContext;

/// <summary>
/// The web console (docs/api.md §12): one page of static assets that runs in the browser over the
/// vault's own JSON API, signed in by a server-side session (<see cref="ConsoleSessions"/>).
/// Everything under /console answers with a strict Content-Security-Policy; the assets are
/// compiled into the server, so the console needs no CDN, no build step and no network beyond
/// the vault itself.
/// </summary>
public static class ConsoleEndpoints
{
    // No inline script or style anywhere, nothing from another origin, no framing. blob: is for
    // the decrypted WAV handed to the audio element and the download link, which never leaves
    // the page; data: for the icons in the stylesheet.
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " +
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static void MapConsoleEndpoints(this WebApplication app)
    {
        var console = app.MapGroup("/console").ExcludeFromDescription();
        console.AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.ContentSecurityPolicy = Policy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Cross-Origin-Resource-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
            if (context.HttpContext.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000";
            }
            return await next(context);
        });
        console.MapGet("/assets/{**name}", (string name, HttpContext context) => ConsoleAssets.Serve(context, name)).AllowAnonymous();
        // Every page path is the same document: the script routes by location.
        console.MapGet("", (HttpContext context) => ConsoleAssets.Serve(context, "index.html")).AllowAnonymous();
        console.MapGet("/{**page}", (HttpContext context) => ConsoleAssets.Serve(context, "index.html")).AllowAnonymous();

        console.MapPost("/session", SignInAsync).AllowAnonymous();
        var signedIn = console.MapGroup("").RequireAuthorization(policy => policy.AddAuthenticationSchemes(SessionAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser());
        signedIn.MapGet("/session", SessionAsync).AllowAuditors();
        signedIn.MapDelete("/session", SignOutAsync).AllowAuditors();
        signedIn.MapGet("/api/public-keys/{sid}/usage", UsageAsync);
    }

    private static async Task<Created<SessionResource>> SignInAsync(HttpContext context, AccountDirectory accounts, ConsoleSessions sessions)
    {
        // Login CSRF: another site must not sign the browser in to an account of its choosing. A
        // cross-site form cannot send JSON, and a browser that says where a request comes from
        // must say it comes from here.
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !string.Equals(origin, $"{context.Request.Scheme}://{context.Request.Host}", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(20403, 403, "Sign-in is accepted only from the console's own pages");
        }
        var notJson = ApiException.BadParameter("Sign in with a JSON body: {\"sid\": \"AC… or SK…\", \"secret\": \"…\"}");
        if (!context.Request.HasJsonContentType())
        {
            throw notJson;
        }
        SignIn? form;
        try
        {
            form = await context.Request.ReadFromJsonAsync(ConsoleJson.Default.SignIn, context.RequestAborted);
        }
        catch (JsonException)
        {
            throw notJson;
        }
        var sid = form?.Sid?.Trim() ?? "";
        var secret = form?.Secret?.Trim() ?? "";
        if (!Sid.Is(sid, "AC") && !Sid.Is(sid, "SK"))
        {
            throw ApiException.BadParameter("The Account SID or API key is AC or SK followed by 32 hex digits");
        }
        var throttle = context.RequestServices.GetRequiredService<AuthenticationThrottle>();
        if (await throttle.RefusalAsync(context, sid) is { } wait)
        {
            throw AuthenticationThrottle.TooMany(wait);
        }
        var caller = secret.Length == 0 ? null : await accounts.AuthenticateAsync(sid, secret);
        if (caller is null)
        {
            await throttle.FailedAsync(context, sid);
            // One answer for an unknown SID, a wrong secret and a suspended account: which of them it was is not for a guesser to learn.
            throw new ApiException(20003, 401, "The SID or the secret is wrong, or the account is not active");
        }
        await throttle.SucceededAsync(context, sid);
        var (token, session) = await sessions.OpenAsync(caller, context.Actor(ActorType.Console, caller));
        context.Response.Cookies.Append(SessionAuthenticationHandler.CookieName(context.Request), token, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            IsEssential = true,
            // No Expires: the cookie ends with the browser; the server ends the session sooner when idle.
        });
        return TypedResults.Created("/console/session", await ResourceAsync(session, accounts, sessions));
    }

    private static async Task<Ok<SessionResource>> SessionAsync(HttpContext context, AccountDirectory accounts, ConsoleSessions sessions) =>
        TypedResults.Ok(await ResourceAsync(Current(context), accounts, sessions));

    private static async Task<NoContent> SignOutAsync(HttpContext context, ConsoleSessions sessions)
    {
        await sessions.CloseAsync(Current(context), context.Actor());
        context.Response.Cookies.Delete(SessionAuthenticationHandler.CookieName(context.Request), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
        });
        return TypedResults.NoContent();
    }

    private static async Task<Ok<KeyUsageResource>> UsageAsync(string sid, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys, IRecordingStore recordings)
    {
        var key = await accounts.KeyInScopeAsync(keys, context.Caller().AccountSid, sid) ?? throw ApiException.NotFound($"/console/api/public-keys/{sid}");
        return TypedResults.Ok(new KeyUsageResource(key.Sid, await recordings.CountUsingKeyAsync(key.Sid, context.RequestAborted)));
    }

    private static ConsoleSession Current(HttpContext context) =>
        context.Items[SessionAuthenticationHandler.SessionItem] as ConsoleSession ?? throw ApiException.Unauthenticated();

    private static async Task<SessionResource> ResourceAsync(ConsoleSession session, AccountDirectory accounts, ConsoleSessions sessions)
    {
        var account = await accounts.FindAsync(session.AccountSid) ?? throw ApiException.Unauthenticated();
        return new SessionResource(account.Sid, account.ParentSid, account.FriendlyName, session.ApiKeySid, session.CsrfToken, (int)sessions.Idle.TotalSeconds,
            Dates.Iso(session.DateCreated + sessions.Absolute));
    }
}
