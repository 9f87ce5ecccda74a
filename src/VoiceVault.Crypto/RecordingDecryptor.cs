namespace VoiceVault.Crypto;

/// <summary>
/// Decrypts and authenticates rsa-aes recordings: the last 16 bytes of the object are held back as
/// the GCM tag while the rest streams through, in constant memory whatever the size.
/// </summary>
public static class RecordingDecryptor
{
    /// <summary>
    /// Decrypts <paramref name="encrypted"/> (<c>ciphertext || tag</c>) into
    /// <paramref name="destination"/> and returns the plaintext length. The destination receives
    /// plaintext BEFORE the tag is checked: it is verified only when this method returns. On
    /// <see cref="AuthenticationFailedException"/> everything written must be discarded — write to
    /// a temporary file and publish it only on success.
    /// </summary>
    /// <exception cref="AuthenticationFailedException">Wrong key or IV, modified or truncated data.</exception>
    public static long Decrypt(Stream encrypted, Stream destination, ContentKey cek, ReadOnlySpan<byte> iv, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return Run(encrypted, destination, cek, iv, progress, cancellationToken);
    }

    /// <summary>Checks the tag of <paramref name="encrypted"/> without releasing any plaintext; returns the plaintext length.</summary>
    /// <exception cref="AuthenticationFailedException">Wrong key or IV, modified or truncated data.</exception>
    public static long Verify(Stream encrypted, ContentKey cek, ReadOnlySpan<byte> iv, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        Run(encrypted, null, cek, iv, progress, cancellationToken);

    /// <summary>
    /// <see cref="Decrypt"/> on the calling thread alone, 64 KiB at a time: for servers, where a
    /// second thread and 2 MiB of buffers per recording cost more than the overlap gains.
    /// </summary>
    /// <exception cref="AuthenticationFailedException">Wrong key or IV, modified or truncated data.</exception>
    public static long DecryptOnCallingThread(Stream encrypted, Stream destination, ContentKey cek, ReadOnlySpan<byte> iv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encrypted);
        ArgumentNullException.ThrowIfNull(destination);
        using var rounds = new HoldBackRounds(cek, iv);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var space = rounds.NextSpace();
            int read = encrypted.ReadAtLeast(space.Span, space.Length, throwOnEndOfStream: false);
            destination.Write(rounds.Take(read).Span);
            if (read < space.Length)
            {
                destination.Write(rounds.Finish().Span);
                return rounds.Total;
            }
        }
    }

    /// <summary>
    /// The asynchronous form of <see cref="Decrypt"/>, for servers: the same guarantees, one read,
    /// transform and write at a time (no second thread), 64 KiB at a time.
    /// </summary>
    /// <exception cref="AuthenticationFailedException">Wrong key or IV, modified or truncated data.</exception>
    public static async Task<long> DecryptAsync(Stream encrypted, Stream destination, ContentKey cek, ReadOnlyMemory<byte> iv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encrypted);
        ArgumentNullException.ThrowIfNull(destination);
        using var rounds = new HoldBackRounds(cek, iv.Span);
        while (true)
        {
            var space = rounds.NextSpace();
            int read = await encrypted.ReadAtLeastAsync(space, space.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            await destination.WriteAsync(rounds.Take(read), cancellationToken).ConfigureAwait(false);
            if (read < space.Length)
            {
                await destination.WriteAsync(rounds.Finish(), cancellationToken).ConfigureAwait(false);
                return rounds.Total;
            }
        }
    }

    // The single-threaded decryption loop's state: each round reads into the space after the bytes
    // held back from the last round, decrypts in place all but the last 16 bytes seen (they may be
    // the tag), and holds those back again. At the end, the held-back bytes are the tag.
    private sealed class HoldBackRounds : IDisposable
    {
        private const int Chunk = 64 * 1024;
        private const int TagSize = RecordingFormat.TagSize;
        private readonly GcmEngine _engine;
        private readonly byte[] _buffer = new byte[TagSize + Chunk + GcmEngine.MaxLag];
        private readonly byte[] _held = new byte[TagSize];
        private int _heldLength;

        public HoldBackRounds(ContentKey cek, ReadOnlySpan<byte> iv)
        {
            ArgumentNullException.ThrowIfNull(cek);
            _engine = GcmEngine.Create(encrypt: false, cek.Bytes, iv);
        }

        public long Total { get; private set; }

        // Where the next read goes: after the held-back bytes, now put back in front.
        public Memory<byte> NextSpace()
        {
            _held.AsSpan(0, _heldLength).CopyTo(_buffer);
            return _buffer.AsMemory(_heldLength, Chunk);
        }

        // The plaintext of this round; valid until the next NextSpace.
        public ReadOnlyMemory<byte> Take(int read)
        {
            int available = _heldLength + read;
            int count = Math.Max(0, available - TagSize);
            // Saved before the in-place transform may write over them.
            _heldLength = available - count;
            _buffer.AsSpan(count, _heldLength).CopyTo(_held);
            int written = count == 0 ? 0 : _engine.Update(_buffer.AsSpan(0, count), _buffer.AsSpan(0, count + GcmEngine.MaxLag));
            Total += written;
            return _buffer.AsMemory(0, written);
        }

        // Checks the tag; the last plaintext bytes, valid until disposal.
        public ReadOnlyMemory<byte> Finish()
        {
            if (_heldLength < TagSize)
            {
                throw AuthenticationFailedException.TooShort(_heldLength);
            }
            int last = _engine.FinishDecrypt(_held, _buffer.AsSpan(0, GcmEngine.MaxLag));
            Total += last;
            return _buffer.AsMemory(0, last);
        }

        public void Dispose()
        {
            Wipe.Buffer(_buffer, "decryption buffer");
            _engine.Dispose();
        }
    }

    private static long Run(Stream encrypted, Stream? destination, ContentKey cek, ReadOnlySpan<byte> iv, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encrypted);
        ArgumentNullException.ThrowIfNull(cek);
        using var engine = GcmEngine.Create(encrypt: false, cek.Bytes, iv);
        Span<byte> tag = stackalloc byte[RecordingFormat.TagSize];
        long length = ChunkPipeline.Transform(encrypted, destination, engine, tag, progress, cancellationToken);
        Span<byte> final = stackalloc byte[GcmEngine.MaxLag];
        int written = engine.FinishDecrypt(tag, final);
        destination?.Write(final[..written]);
        destination?.Flush();
        final.Clear();
        return length + written;
    }
}
