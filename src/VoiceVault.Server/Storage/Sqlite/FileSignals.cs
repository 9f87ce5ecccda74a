using VoiceVault.Server.Core;
namespace VoiceVault.Server.Storage.Sqlite;

/// <summary>
/// Cluster signals for instances sharing one embedded data folder: a signal rewrites the file
/// <c>DataDir/signals/{signal}</c>, and every instance watches that folder (only it, not the
/// media below the data folder).
/// </summary>
public sealed class FileSignals : IClusterSignals, IDisposable
{
    private readonly string _folder;
    private readonly FileSystemWatcher _watcher;
    private readonly SignalSubscribers _subscribers = new();

    public FileSignals(VaultOptions options)
    {
        _folder = Path.Combine(options.DataDir, "signals");
        Directory.CreateDirectory(_folder);
        _watcher = new FileSystemWatcher(_folder) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName };
        _watcher.Changed += (_, e) => _subscribers.Deliver(e.Name ?? IClusterSignals.Reset);
        _watcher.Created += (_, e) => _subscribers.Deliver(e.Name ?? IClusterSignals.Reset);
        _watcher.Error += (_, _) => _subscribers.Deliver(IClusterSignals.Reset);
        _watcher.EnableRaisingEvents = true;
    }

    public void Subscribe(Action<string> handler) => _subscribers.Add(handler);

    public async Task SendAsync(string signal, CancellationToken cancellationToken = default) =>
        await File.WriteAllTextAsync(Path.Combine(_folder, signal), Guid.NewGuid().ToString("N"), cancellationToken);

    public void Dispose() => _watcher.Dispose();
}
