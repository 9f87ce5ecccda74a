namespace VoiceVault.Cli;

/// <summary>
/// An output file that appears only when complete: written to a 0600 temporary file beside the
/// target and renamed over it on <see cref="Commit"/>. Disposed without a commit, the temporary
/// file is deleted and the target is untouched — unverified plaintext is never published.
/// </summary>
internal sealed class AtomicOutput : IDisposable
{
    private readonly string _target;
    private bool _committed;

    private AtomicOutput(string target, string temp, FileStream stream)
    {
        _target = target;
        TempPath = temp;
        Stream = stream;
    }

    private const string TemporarySuffix = ".partial";

    public string TempPath { get; }

    /// <summary>
    /// Removes what a killed run left under <paramref name="directory"/>: temporary files of outputs
    /// whose names start with <paramref name="prefix"/> that were never committed (never verified).
    /// </summary>
    public static int RemoveStale(string directory, string prefix)
    {
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(directory, $".{prefix}*{TemporarySuffix}", SearchOption.AllDirectories))
        {
            File.Delete(file);
            removed++;
        }
        return removed;
    }

    public FileStream Stream { get; }

    public static AtomicOutput Create(string target)
    {
        var full = Path.GetFullPath(target);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            throw new CliException($"the output directory '{directory}' does not exist", "create it first, or choose another output path");
        }
        if (Directory.Exists(full))
        {
            throw new CliException($"the output '{target}' is a directory", "give a file name");
        }
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid().ToString("N")[..12]}{TemporarySuffix}");
        try
        {
            return new AtomicOutput(full, temp, new FileStream(temp, NewPrivateFile(bufferSize: 0)));
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliException($"cannot write in '{directory}': {e.Message}", "check the directory's permissions");
        }
    }

    /// <summary>Publishes the file. With <paramref name="sync"/> its bytes reach the disk before the rename.</summary>
    public void Commit(bool sync)
    {
        Stream.Flush(flushToDisk: sync);
        Stream.Dispose();
        File.Move(TempPath, _target, overwrite: true);
        _committed = true;
    }

    /// <summary>Options for a new file only its owner can read (0600 from creation, not chmod-ed later).</summary>
    public static FileStreamOptions NewPrivateFile(int bufferSize = 4096)
    {
        // Read too: some outputs are checked (a WAV header, a tag) before they are committed.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return options;
    }

    public void Dispose()
    {
        if (!_committed)
        {
            Stream.Dispose();
            File.Delete(TempPath);
        }
    }
}
