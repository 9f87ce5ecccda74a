using System.Buffers;

namespace VoiceVault.Cli;

/// <summary>
/// Gathers small writes into large ones to a file, in a buffer borrowed from the shared pool. A
/// fresh buffer per recording (as <see cref="BufferedStream"/> allocates) is a large-object
/// allocation each time, and the page faults of touching new memory were most of fetch's extra
/// system time. Write-only; <see cref="FlushAsync(CancellationToken)"/> before the target is committed.
/// </summary>
internal sealed class GatheredWrites(Stream target, int size = 1 << 20) : Stream
{
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(size);
    private int _used;

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        while (data.Length > 0)
        {
            int n = Math.Min(data.Length, _buffer.Length - _used);
            data[..n].CopyTo(_buffer.AsMemory(_used));
            _used += n;
            data = data[n..];
            if (_used == _buffer.Length)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        if (_used > 0)
        {
            await target.WriteAsync(_buffer.AsMemory(0, _used), cancellationToken).ConfigureAwait(false);
            _used = 0;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush() => FlushAsync().GetAwaiter().GetResult();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // The target is the caller's; only the buffer goes back (plaintext in it is cleared first).
    protected override void Dispose(bool disposing)
    {
        if (_buffer is not null)
        {
            Array.Clear(_buffer);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        base.Dispose(disposing);
    }
}
