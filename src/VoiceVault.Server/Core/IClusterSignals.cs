namespace VoiceVault.Server.Core;

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

/// <summary>The subscribers of a signal transport, called in turn for each signal received.</summary>
public sealed class SignalSubscribers
{
    private readonly List<Action<string>> _handlers = [];

    public void Add(Action<string> handler)
    {
        lock (_handlers)
        {
            _handlers.Add(handler);
        }
    }

    public void Deliver(string signal)
    {
        Action<string>[] handlers;
        lock (_handlers)
        {
            handlers = [.. _handlers];
        }
        foreach (var handler in handlers)
        {
            handler(signal);
        }
    }
}
