using System.Buffers;
using System.Security.Cryptography;

namespace VoiceVault.Crypto;

/// <summary>
/// Encrypts one recording into the rsa-aes format: <c>ciphertext || tag</c>, the whole media file
/// as the plaintext of one AES-256-GCM encryption. As a write-only <see cref="Stream"/> it takes
/// plaintext as it arrives (an upload, a live call) and writes ciphertext to the destination;
/// <see cref="Complete"/> appends the tag. An encryptor disposed without completing leaves an
/// object with no tag, which no decryptor accepts — delete it.
/// </summary>
public sealed class RecordingEncryptor : Stream
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream _destination;
    private readonly bool _leaveOpen;
    private readonly GcmEngine _engine;
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BufferSize + GcmEngine.MaxLag);
    private bool _completed;
    private long _length;

    /// <summary>Starts an encryption to <paramref name="destination"/> under <paramref name="cek"/> and a 12-byte <paramref name="iv"/>.</summary>
    public RecordingEncryptor(Stream destination, ContentKey cek, ReadOnlySpan<byte> iv, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(cek);
        _destination = destination;
        _leaveOpen = leaveOpen;
        _engine = GcmEngine.Create(encrypt: true, cek.Bytes, iv);
    }

    /// <summary>
    /// Encrypts all of <paramref name="plaintext"/> to <paramref name="destination"/>, tag included,
    /// overlapping reading, encryption and writing. Returns the plaintext length.
    /// </summary>
    public static long Encrypt(Stream plaintext, Stream destination, ContentKey cek, ReadOnlySpan<byte> iv, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(cek);
        using var engine = GcmEngine.Create(encrypt: true, cek.Bytes, iv);
        long length = ChunkPipeline.Transform(plaintext, destination, engine, [], progress, cancellationToken);
        Span<byte> final = stackalloc byte[GcmEngine.MaxLag + RecordingFormat.TagSize];
        int written = engine.FinishEncrypt(final, final.Slice(GcmEngine.MaxLag, RecordingFormat.TagSize));
        destination.Write(final[..written]);
        destination.Write(final.Slice(GcmEngine.MaxLag, RecordingFormat.TagSize));
        destination.Flush();
        return length + written;
    }

    /// <summary>Plaintext bytes taken so far.</summary>
    public long PlaintextLength => _length;

    /// <summary>Whether the tag has been written.</summary>
    public bool IsCompleted => _completed;

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var scratch = Writable();
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, BufferSize);
            int written = _engine.Update(buffer[..n], scratch);
            _destination.Write(scratch, 0, written);
            _length += n;
            buffer = buffer[n..];
        }
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var scratch = Writable();
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, BufferSize);
            int written = _engine.Update(buffer.Span[..n], scratch);
            await _destination.WriteAsync(scratch.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
            _length += n;
            buffer = buffer[n..];
        }
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Ends the encryption: writes the last bytes and the 16-byte tag, then flushes the destination.</summary>
    public void Complete()
    {
        int n = Finish(out var scratch);
        _destination.Write(scratch, 0, n);
        _destination.Flush();
    }

    /// <summary>Ends the encryption: writes the last bytes and the 16-byte tag, then flushes the destination.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        int n = Finish(out var scratch);
        await _destination.WriteAsync(scratch.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
        await _destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private int Finish(out byte[] scratch)
    {
        scratch = Writable();
        int written = _engine.FinishEncrypt(scratch, scratch.AsSpan(GcmEngine.MaxLag, RecordingFormat.TagSize));
        // GCM has no padding: nothing is held back, so the tag can follow directly.
        scratch.AsSpan(GcmEngine.MaxLag, RecordingFormat.TagSize).CopyTo(scratch.AsSpan(written));
        _completed = true;
        return written + RecordingFormat.TagSize;
    }

    private byte[] Writable()
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        return _completed ? throw new InvalidOperationException("The recording's tag has been written; nothing more can be added.") : _buffer;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer is not null)
        {
            CryptographicOperations.ZeroMemory(_buffer);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _engine.Dispose();
            if (!_leaveOpen)
            {
                _destination.Dispose();
            }
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override bool CanRead => false;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => _buffer is not null && !_completed;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override void Flush() => _destination.Flush();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();
}
