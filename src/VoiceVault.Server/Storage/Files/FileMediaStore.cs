using VoiceVault.Server.Core;
namespace VoiceVault.Server.Storage.Files;

/// <summary>
/// The embedded media store: one file per object under <c>DataDir/media</c>, written through a
/// temporary file and a rename. A temporary file's name carries its writer's instance, because
/// several instances may share one data folder: at start an instance removes only its own
/// leftovers, never another's upload in progress.
/// </summary>
public sealed class FileMediaStore : IMediaStore
{
    private readonly string _root;
    private readonly string _instance;

    public FileMediaStore(VaultOptions options)
    {
        _root = Path.GetFullPath(Path.Combine(options.DataDir, "media"));
        // The instance's name may hold anything a host name may: a digest of it is safe in a file name.
        _instance = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(options.InstanceId)))[..12];
        Directory.CreateDirectory(_root);
        // Objects this instance was writing when it stopped: ciphertext without a tag, never committed.
        foreach (var partial in Directory.EnumerateFiles(_root, $"*.{_instance}.*.partial", SearchOption.AllDirectories))
        {
            File.Delete(partial);
        }
    }

    public Task<MediaWrite> CreateAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{_instance}.{Guid.NewGuid().ToString("N")[..8]}.partial";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 0, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return Task.FromResult<MediaWrite>(new FileWrite(new FileStream(temp, options), temp, path));
    }

    public Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return Task.FromResult<Stream?>(null);
        }
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        stream.Position = offset;
        return Task.FromResult<Stream?>(length is null ? stream : new BoundedStream(stream, length.Value));
    }

    public Task<long?> GetLengthAsync(string key, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(PathOf(key));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    /// <summary>Removes the object and any unfinished writes of it (those a stopped instance left behind).</summary>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        var folder = Path.GetDirectoryName(path)!;
        if (Directory.Exists(folder))
        {
            foreach (var partial in Directory.EnumerateFiles(folder, Path.GetFileName(path) + ".*.partial"))
            {
                File.Delete(partial);
            }
        }
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        // Keys are ours (SID-based), but a path must never leave the media folder whatever it says.
        var path = Path.GetFullPath(Path.Combine(_root, key));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Media key '{key}' leaves the media folder.", nameof(key));
        }
        return path;
    }

    private sealed class FileWrite(FileStream stream, string temp, string target) : MediaWrite
    {
        private bool _committed;

        public override Stream Stream => stream;

        public override async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
            await stream.DisposeAsync();
            File.Move(temp, target, overwrite: true);
            _committed = true;
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_committed)
            {
                await stream.DisposeAsync();
                File.Delete(temp);
            }
        }
    }
}

/// <summary>A read-only view of the next <c>length</c> bytes of a stream.</summary>
internal sealed class BoundedStream(Stream inner, long limit) : Stream
{
    private readonly long _limit = limit;
    private long _left = limit;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
        _left -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken);
        _left -= n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _limit;
    public override long Position { get => _limit - _left; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
