namespace VoiceVault.Server.Storage;

/// <summary>
/// Changes every instance of a vault must hear about at once — a deleted API key, a suspended
/// account — so that what one instance caches is dropped by all. Sent through what the instances
/// share (PostgreSQL's NOTIFY; a file in the embedded data folder); every instance receives it, the
/// sender included.
/// </summary>
public interface IClusterSignals
{
    /// <summary>The signal that cached credentials must be checked again.</summary>
    public const string Credentials = "credentials";

    /// <summary>What a subscriber receives when signals may have been missed (the listener reconnected): drop everything cached.</summary>
    public const string Reset = "reset";

    Task SendAsync(string signal, CancellationToken cancellationToken = default);

    void Subscribe(Action<string> handler);
}
