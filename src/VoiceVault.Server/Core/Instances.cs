namespace VoiceVault.Server.Core;

/// <summary>
/// Several instances on one database: each writes a heartbeat, and each unfinished recording
/// belongs to the instance storing or recording it, so a dead instance's can be found and ended.
/// </summary>
public interface IInstanceStore
{
    /// <summary>
    /// Writes <paramref name="instance"/>'s heartbeat (and the address other instances reach it at,
    /// when given), and forgets the owners of recordings that have ended.
    /// </summary>
    Task HeartbeatAsync(string instance, DateTimeOffset now, string? address = null);

    /// <summary>Records that the call streams into <paramref name="instance"/> (taking it over from any earlier holder).</summary>
    Task SetLiveCallAsync(string accountSid, string callSid, string instance);

    /// <summary>The call no longer streams into <paramref name="instance"/>.</summary>
    Task EndLiveCallAsync(string accountSid, string callSid, string instance);

    /// <summary>Forgets every call <paramref name="instance"/> held (at its start: they ended with its previous run).</summary>
    Task EndLiveCallsAsync(string instance);

    /// <summary>
    /// The address of the instance the call streams into, when that is an instance other than
    /// <paramref name="instance"/>, alive (heartbeat at or after <paramref name="deadBefore"/>) and reachable; otherwise null.
    /// </summary>
    Task<string?> LiveCallAddressAsync(string accountSid, string callSid, string instance, DateTimeOffset deadBefore, CancellationToken cancellationToken = default);

    /// <summary>
    /// Unfinished recordings nobody is finishing: <paramref name="instance"/>'s own from before a
    /// restart (when <paramref name="includeOwn"/>), those of instances whose heartbeat is older than
    /// <paramref name="deadBefore"/>, and those with no owner.
    /// </summary>
    Task<IReadOnlyList<Recording>> AbandonedAsync(string instance, bool includeOwn, DateTimeOffset deadBefore, CancellationToken cancellationToken = default);

    /// <summary>The SIDs of the unfinished recordings of every other instance that is alive (heartbeat at or after <paramref name="deadBefore"/>).</summary>
    Task<IReadOnlySet<string>> HeldByOthersAsync(string instance, DateTimeOffset deadBefore, CancellationToken cancellationToken = default);
}
