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
    private readonly List<Action<string>> _handlers = [];

    public FileSignals(VaultOptions options)
    {
        _folder = Path.Combine(options.DataDir, "signals");
        Directory.CreateDirectory(_folder);
        _watcher = new FileSystemWatcher(_folder) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName };
        _watcher.Changed += (_, e) => Deliver(e.Name ?? IClusterSignals.Reset);
        _watcher.Created += (_, e) => Deliver(e.Name ?? IClusterSignals.Reset);
        _watcher.Error += (_, _) => Deliver(IClusterSignals.Reset);
        _watcher.EnableRaisingEvents = true;
    }

    public void Subscribe(Action<string> handler)
    {
        lock (_handlers)
        {
            _handlers.Add(handler);
        }
    }

    public async Task SendAsync(string signal, CancellationToken cancellationToken = default) =>
        await File.WriteAllTextAsync(Path.Combine(_folder, signal), Guid.NewGuid().ToString("N"), cancellationToken);

    private void Deliver(string signal)
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

    public void Dispose() => _watcher.Dispose();
}
