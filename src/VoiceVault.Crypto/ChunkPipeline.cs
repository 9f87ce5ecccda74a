using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace VoiceVault.Crypto;

/// <summary>
/// Moves a stream through a GCM engine in 256 KiB chunks with constant memory (8 slots, 2 MiB:
/// small enough to stay in cache while the cipher works in place, measured faster than 1 or 4 MiB). The calling thread
/// reads and transforms (in place); a second thread writes, so that on two cores reading,
/// the cipher and writing overlap. The last <c>tail.Length</c> bytes of the source are held back
/// (the tag, when decrypting) and returned instead of transformed.
/// </summary>
internal static class ChunkPipeline
{
    public const int ChunkSize = 256 << 10;
    private const int SlotCount = 8;

    public static long Transform(Stream source, Stream? destination, GcmEngine engine, Span<byte> tail, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        int holdBack = tail.Length;
        bool inline = destination is null || (source.CanSeek && source.Length - source.Position <= 2L * ChunkSize);
        int slotCount = inline ? 1 : SlotCount;
        int slotSize = holdBack + ChunkSize + GcmEngine.MaxLag;
        var slots = new byte[slotCount][];
        using var free = new BlockingCollection<byte[]>(slotCount);
        using var filled = new BlockingCollection<(byte[] Buffer, int Offset, int Count)>(slotCount);
        for (int i = 0; i < slotCount; i++)
        {
            slots[i] = GC.AllocateUninitializedArray<byte>(slotSize);
            free.Add(slots[i]);
        }

        Exception? writeFailure = null;
        Thread? writer = null;
        if (!inline)
        {
            writer = new Thread(() =>
            {
                foreach (var (buffer, offset, count) in filled.GetConsumingEnumerable())
                {
                    if (writeFailure is null)
                    {
                        try
                        {
                            destination!.Write(buffer, offset, count);
                        }
                        catch (Exception e)
                        {
                            // Keep draining so the reader never blocks on a full queue; it stops at its next chunk.
                            writeFailure = e;
                        }
                    }
                    free.Add(buffer);
                }
            })
            { IsBackground = true, Name = "VoiceVault chunk writer" };
            writer.Start();
        }

        Span<byte> carry = stackalloc byte[holdBack];
        int carryLength = 0;
        long consumed = 0;
        long produced = 0;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (writeFailure is not null)
                {
                    break;
                }
                var buffer = free.Take(cancellationToken);
                carry[..carryLength].CopyTo(buffer.AsSpan(holdBack - carryLength));
                int read = source.ReadAtLeast(buffer.AsSpan(holdBack, ChunkSize), ChunkSize, throwOnEndOfStream: false);
                consumed += read;
                int start = holdBack - carryLength;
                int available = carryLength + read;
                int count = Math.Max(0, available - holdBack);
                // The held-back bytes must be saved before the in-place transform may write over them.
                carryLength = available - count;
                buffer.AsSpan(start + count, carryLength).CopyTo(carry);
                int written = count == 0 ? 0 : engine.Update(buffer.AsSpan(start, count), buffer.AsSpan(start, count + GcmEngine.MaxLag));
                produced += written;
                if (written > 0 && destination is not null)
                {
                    if (inline)
                    {
                        destination.Write(buffer, start, written);
                    }
                    else
                    {
                        filled.Add((buffer, start, written), cancellationToken);
                        buffer = null;
                    }
                }
                if (buffer is not null)
                {
                    free.Add(buffer);
                }
                progress?.Report(consumed);
                if (read < ChunkSize)
                {
                    break;
                }
            }
        }
        finally
        {
            filled.CompleteAdding();
            writer?.Join();
            // The slots held plaintext (decrypted output, or the source being encrypted).
            foreach (var slot in slots)
            {
                Wipe.Buffer(slot, "pipeline slot");
            }
        }
        if (writeFailure is not null)
        {
            throw new IOException($"Writing the output failed: {writeFailure.Message}", writeFailure);
        }
        if (carryLength < holdBack)
        {
            throw AuthenticationFailedException.TooShort(consumed);
        }
        carry.CopyTo(tail);
        return produced;
    }
}
