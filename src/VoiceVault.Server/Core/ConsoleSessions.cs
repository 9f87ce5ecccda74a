namespace VoiceVault.Server.Core;

/// <summary>A signed-in console session, found by the SHA-256 of its cookie token.</summary>
public sealed record ConsoleSession(string IdHash, string AccountSid, string? ApiKeySid, string CsrfToken, DateTimeOffset DateCreated, DateTimeOffset LastSeen)
{
    /// <summary>Signed in with an auditor key (read from the key at each request, not kept with the session).</summary>
    public bool Auditor { get; init; }
}

/// <summary>The console's sessions (one table, both backends).</summary>
public interface IConsoleSessionStore
{
    Task CreateAsync(WriteScope scope, ConsoleSession session);

    /// <summary>
    /// The session, if it is still alive: seen since <paramref name="idleSince"/>, created since
    /// <paramref name="createdSince"/>, its account active and its API key (if any) not deleted.
    /// </summary>
    Task<ConsoleSession?> FindLiveAsync(string idHash, DateTimeOffset idleSince, DateTimeOffset createdSince, CancellationToken cancellationToken = default);

    Task TouchAsync(string idHash, DateTimeOffset now);

    Task<bool> DeleteAsync(WriteScope scope, string idHash);

    /// <summary>Removes sessions that can no longer be used (idle, too old, or opened with a deleted API key).</summary>
    Task<int> DeleteDeadAsync(DateTimeOffset idleSince, DateTimeOffset createdSince);
}
