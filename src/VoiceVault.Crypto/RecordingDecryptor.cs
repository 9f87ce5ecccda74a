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
    /// The asynchronous form of <see cref="Decrypt"/>, for servers: the same guarantees, one read,
    /// transform and write at a time (no second thread), 64 KiB at a time.
    /// </summary>
    /// <exception cref="AuthenticationFailedException">Wrong key or IV, modified or truncated data.</exception>
    public static async Task<long> DecryptAsync(Stream encrypted, Stream destination, ContentKey cek, ReadOnlyMemory<byte> iv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encrypted);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(cek);
        const int chunk = 64 * 1024;
        const int tagSize = RecordingFormat.TagSize;
        using var engine = GcmEngine.Create(encrypt: false, cek.Bytes, iv.Span);
        var buffer = new byte[tagSize + chunk + GcmEngine.MaxLag];
        try
        {
            // Layout per round: [held-back tail of the previous round | newly read bytes].
            int carried = 0;
            long total = 0;
            while (true)
            {
                int read = await encrypted.ReadAtLeastAsync(buffer.AsMemory(carried, chunk), chunk, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                int available = carried + read;
                int count = Math.Max(0, available - tagSize);
                var tail = buffer.AsSpan(count, available - count).ToArray();
                int written = count == 0 ? 0 : engine.Update(buffer.AsSpan(0, count), buffer.AsSpan(0, count + GcmEngine.MaxLag));
                if (written > 0)
                {
                    await destination.WriteAsync(buffer.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
                }
                total += written;
                tail.CopyTo(buffer, 0);
                carried = tail.Length;
                if (read < chunk)
                {
                    break;
                }
            }
            if (carried < tagSize)
            {
                throw AuthenticationFailedException.TooShort(carried);
            }
            var tag = buffer.AsSpan(0, tagSize).ToArray();
            var final = new byte[GcmEngine.MaxLag];
            int last = engine.FinishDecrypt(tag, final);
            await destination.WriteAsync(final.AsMemory(0, last), cancellationToken).ConfigureAwait(false);
            return total + last;
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
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
