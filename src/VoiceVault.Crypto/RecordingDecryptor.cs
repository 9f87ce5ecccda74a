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
