namespace VoiceVault.Server.Storage;

/// <summary>
/// Several instances on one database: each writes a heartbeat, and each unfinished recording
/// belongs to the instance storing or recording it, so a dead instance's can be found and ended.
/// </summary>
public interface IInstanceStore
{
    /// <summary>Writes <paramref name="instance"/>'s heartbeat, and forgets the owners of recordings that have ended.</summary>
    Task HeartbeatAsync(string instance, DateTimeOffset now);

    /// <summary>
    /// Unfinished recordings nobody is finishing: <paramref name="instance"/>'s own from before a
    /// restart (when <paramref name="includeOwn"/>), those of instances whose heartbeat is older than
    /// <paramref name="deadBefore"/>, and those with no owner.
    /// </summary>
    Task<IReadOnlyList<Recording>> AbandonedAsync(string instance, bool includeOwn, DateTimeOffset deadBefore, CancellationToken cancellationToken = default);

    /// <summary>The SIDs of the unfinished recordings of every other instance that is alive (heartbeat at or after <paramref name="deadBefore"/>).</summary>
    Task<IReadOnlySet<string>> HeldByOthersAsync(string instance, DateTimeOffset deadBefore, CancellationToken cancellationToken = default);
}
