using System.Security.Cryptography;
using System.Text;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.WebConsole;

/// <summary>The console's settings (<c>VoiceVault:Console</c>).</summary>
public sealed class ConsoleOptions
{
    /// <summary>Serve the console under /console.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A session unused for this long is signed out.</summary>
    public int IdleMinutes { get; set; } = 30;

    /// <summary>A session is signed out this long after sign-in, however busy.</summary>
    public int AbsoluteHours { get; set; } = 12;

    public void Validate()
    {
        if (IdleMinutes is < 1 or > 24 * 60)
        {
            throw new StartupException($"VoiceVault:Console:IdleMinutes is {IdleMinutes}", "give 1 to 1440 minutes (a day)");
        }
        if (AbsoluteHours is < 1 or > 30 * 24)
        {
            throw new StartupException($"VoiceVault:Console:AbsoluteHours is {AbsoluteHours}", "give 1 to 720 hours (thirty days)");
        }
        if (AbsoluteHours * 60 < IdleMinutes)
        {
            throw new StartupException($"VoiceVault:Console:AbsoluteHours ({AbsoluteHours} h) is shorter than IdleMinutes ({IdleMinutes} min)", "make AbsoluteHours at least IdleMinutes / 60");
        }
    }
}

/// <summary>
/// Server-side console sessions: the cookie carries 256 random bits, the database keeps their
/// SHA-256 with the caller they stand for and a CSRF token. Because the session lives on the
/// server, signing out (or suspending the account, or deleting the API key used) ends it
/// everywhere at once, on every instance, and a copied cookie dies with it.
/// </summary>
public sealed class ConsoleSessions(IConsoleSessionStore store, TimeProvider clock, ConsoleOptions options, AuditTrail audit)
{
    /// <summary>The clock expiry is judged by (tests move it forward).</summary>
    internal TimeProvider Clock { get; set; } = clock;

    // last_seen is written at most this often per session: idle expiry is this coarse, and a page
    // that makes ten API calls does not make ten writes.
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);

    public TimeSpan Idle => TimeSpan.FromMinutes(options.IdleMinutes);

    public TimeSpan Absolute => TimeSpan.FromHours(options.AbsoluteHours);

    /// <summary>
    /// Opens a session for a caller whose credentials were just checked, with its
    /// <c>console.sign_in</c> event (by <paramref name="actor"/>); returns the cookie value and the session.
    /// </summary>
    public async Task<(string Token, ConsoleSession Session)> OpenAsync(Caller caller, Actor actor)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var now = Clock.GetUtcNow();
        await store.DeleteDeadAsync(now - Idle, now - Absolute);
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var session = new ConsoleSession(Hash(token), caller.AccountSid, caller.ApiKeySid, Base64Url(RandomNumberGenerator.GetBytes(32)), now, now) { Auditor = caller.Auditor };
        await audit.ChangeAsync(async scope =>
        {
            await store.CreateAsync(scope, session);
            return session;
        }, opened => Audited.Console(opened.AccountSid, actor, signIn: true, opened.IdHash));
        return (token, session);
    }

    /// <summary>The live session a cookie value stands for, or null; keeps it from going idle.</summary>
    public async Task<ConsoleSession?> ResolveAsync(string token, CancellationToken cancellationToken = default)
    {
        if (token.Length != 43)
        {
            return null;
        }
        var now = Clock.GetUtcNow();
        var session = await store.FindLiveAsync(Hash(token), now - Idle, now - Absolute, cancellationToken);
        if (session is not null && now - session.LastSeen >= TouchEvery)
        {
            await store.TouchAsync(session.IdHash, now);
        }
        return session;
    }

    /// <summary>Signs <paramref name="session"/> out (<c>console.sign_out</c>, when it was still open).</summary>
    public Task<bool> CloseAsync(ConsoleSession session, Actor actor)
    {
        ArgumentNullException.ThrowIfNull(session);
        return audit.ChangeAsync(scope => store.DeleteAsync(scope, session.IdHash),
            closed => closed ? Audited.Console(session.AccountSid, actor, signIn: false, session.IdHash) : null);
    }

    /// <summary>Whether a request's CSRF token is the session's (constant time).</summary>
    public static bool CsrfMatches(ConsoleSession session, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(session.CsrfToken), Encoding.ASCII.GetBytes(presented));

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
