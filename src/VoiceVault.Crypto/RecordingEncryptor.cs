using System.Buffers;
using System.Security.Cryptography;

namespace VoiceVault.Crypto;

/// <summary>
/// Encrypts one recording into the rsa-aes format: <c>ciphertext || tag</c>, the whole media file
/// as the plaintext of one AES-256-GCM encryption. As a write-only <see cref="Stream"/> it takes
/// plaintext as it arrives (an upload, a live call) and writes ciphertext to the destination;
/// <see cref="Complete"/> appends the tag. An encryptor disposed without completing leaves an
/// object with no tag, which no decryptor accepts — delete it. Ciphertext is gathered into
/// writes of 256 KiB (or the size given) however small the pieces written to it (a socket's reads,
/// 20 ms audio frames); <see cref="Flush"/> writes what is gathered.
/// </summary>
public sealed class RecordingEncryptor : Stream
{
    private const int DefaultBufferSize = 256 * 1024;
    private readonly int _bufferSize;
    private readonly int _minRoom;
    private readonly Stream _destination;
    private readonly bool _leaveOpen;
    private readonly GcmEngine _engine;
    private byte[]? _buffer;
    private bool _completed;
    private long _length;
    private int _pending;

    /// <summary>
    /// Starts an encryption to <paramref name="destination"/> under <paramref name="cek"/> and a
    /// 12-byte <paramref name="iv"/>; ciphertext is written in pieces of about
    /// <paramref name="bufferSize"/> bytes (at least 4 KiB).
    /// </summary>
    public RecordingEncryptor(Stream destination, ContentKey cek, ReadOnlySpan<byte> iv, bool leaveOpen = false, int bufferSize = DefaultBufferSize)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(cek);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 4096);
        _bufferSize = bufferSize;
        _minRoom = bufferSize / 16;
        _buffer = ArrayPool<byte>.Shared.Rent(_bufferSize + GcmEngine.MaxLag);
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
        while (!buffer.IsEmpty)
        {
            int n = Take(buffer);
            buffer = buffer[n..];
            if (_bufferSize - _pending < _minRoom)
            {
                _destination.Write(_buffer!, 0, _pending);
                _pending = 0;
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int n = Take(buffer.Span);
            buffer = buffer[n..];
            if (_bufferSize - _pending < _minRoom)
            {
                await _destination.WriteAsync(_buffer.AsMemory(0, _pending), cancellationToken).ConfigureAwait(false);
                _pending = 0;
            }
        }
    }

    // Encrypts as much of the input as fits after the gathered ciphertext; the engine may emit up
    // to MaxLag bytes more than it takes, which the buffer's tail leaves room for.
    private int Take(ReadOnlySpan<byte> input)
    {
        var scratch = Writable();
        int n = Math.Min(input.Length, _bufferSize - _pending);
        _pending += _engine.Update(input[..n], scratch.AsSpan(_pending));
        _length += n;
        return n;
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Ends the encryption: writes the last bytes and the 16-byte tag, then flushes the destination.</summary>
    public void Complete()
    {
        int n = Finish();
        _destination.Write(_buffer!, 0, n);
        _destination.Flush();
    }

    /// <summary>Ends the encryption: writes the last bytes and the 16-byte tag, then flushes the destination.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        int n = Finish();
        await _destination.WriteAsync(_buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
        await _destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    // Appends the engine's last bytes and the tag to what is gathered; returns the bytes to write.
    private int Finish()
    {
        var scratch = Writable();
        Span<byte> tag = stackalloc byte[RecordingFormat.TagSize];
        int written = _engine.FinishEncrypt(scratch.AsSpan(_pending), tag);
        tag.CopyTo(scratch.AsSpan(_pending + written));
        _completed = true;
        int n = _pending + written + RecordingFormat.TagSize;
        _pending = 0;
        return n;
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
            Wipe.Buffer(_buffer, "encryption buffer");
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

    /// <summary>Writes the ciphertext gathered so far and flushes the destination (the tag comes only with <see cref="Complete"/>).</summary>
    public override void Flush()
    {
        if (_pending > 0)
        {
            _destination.Write(_buffer!, 0, _pending);
            _pending = 0;
        }
        _destination.Flush();
    }

    /// <inheritdoc/>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending > 0)
        {
            await _destination.WriteAsync(_buffer.AsMemory(0, _pending), cancellationToken).ConfigureAwait(false);
            _pending = 0;
        }
        await _destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();
}
