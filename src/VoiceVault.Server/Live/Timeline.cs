using System.Buffers.Binary;

namespace VoiceVault.Server.Live;

/// <summary>
/// The spool's records: one per accepted media frame, in arrival order —
/// <c>track (1 byte) | 0 | length (u16) | position in samples (u32) | μ-law bytes</c>, little-endian.
/// </summary>
public static class SpoolRecord
{
    public const int HeaderSize = 8;

    public static void WriteHeader(Span<byte> header, int track, int length, long position)
    {
        header[0] = (byte)track;
        header[1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)position);
    }
}

/// <summary>
/// Renders the spool into the recording's PCM, as a write-only stream the decrypted spool is copied
/// into: each frame's samples go to their place on the timeline by position, samples no frame gave
/// are silence, a sample given twice keeps its first value, and frames may arrive out of order by
/// up to <see cref="Window"/> samples (10 s). Mono mixes the tracks (clipped); dual puts inbound
/// on channel 1 and outbound on channel 2. Writes 16-bit little-endian PCM for samples
/// [<c>from</c>, <c>to</c>) to <c>output</c>.
/// </summary>
public sealed class TimelineRenderer : Stream
{
    public const int Window = 10 * 8000;
    // Samples are written out a second at a time, not a frame at a time: the ring holds the
    // window plus one batch, so a batch can wait without narrowing the window.
    private const int Batch = 8000;
    private const int Capacity = Window + Batch;
    private readonly Stream _output;
    private readonly int _channels;
    private readonly long _from;
    private readonly long _to;
    private readonly short[][] _samples = [Rent<short>(), Rent<short>()];
    private readonly bool[][] _filled = [Rent<bool>(), Rent<bool>()];
    private readonly byte[] _out = new byte[4 * Batch];
    private readonly byte[] _carry = new byte[SpoolRecord.HeaderSize + ushort.MaxValue];
    private int _carried;
    // Samples before _emitted are written out; before _settled (newest end - Window) they are final.
    private long _emitted;
    private long _settled;

    public TimelineRenderer(Stream output, int channels, long from, long to)
    {
        _output = output;
        _channels = channels;
        _from = from;
        _to = to;
        _emitted = _settled = from;
    }

    private static T[] Rent<T>()
    {
        var array = System.Buffers.ArrayPool<T>.Shared.Rent(Capacity);
        Array.Clear(array);
        return array;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_carried == 0 && buffer.Length >= SpoolRecord.HeaderSize && buffer.Length >= RecordSize(buffer))
            {
                int size = RecordSize(buffer);
                Place(buffer[..size]);
                buffer = buffer[size..];
                continue;
            }
            // A record split across writes: gather it (header first, then the rest).
            int want = _carried < SpoolRecord.HeaderSize ? SpoolRecord.HeaderSize : RecordSize(_carry);
            int take = Math.Min(want - _carried, buffer.Length);
            buffer[..take].CopyTo(_carry.AsSpan(_carried));
            _carried += take;
            buffer = buffer[take..];
            if (_carried >= SpoolRecord.HeaderSize && _carried == RecordSize(_carry))
            {
                Place(_carry.AsSpan(0, _carried));
                _carried = 0;
            }
        }
    }

    private static int RecordSize(ReadOnlySpan<byte> record) => SpoolRecord.HeaderSize + BinaryPrimitives.ReadUInt16LittleEndian(record[2..]);

    private void Place(ReadOnlySpan<byte> record)
    {
        int track = record[0] & 1;
        long position = BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
        var payload = record[SpoolRecord.HeaderSize..];
        long end = Math.Min(position + payload.Length, _to);
        _settled = Math.Max(_settled, end - Window);
        if (end - _emitted > Capacity)
        {
            Emit(_settled);
        }
        // Samples more than the window behind the newest are final: a frame that late is dropped.
        long start = Math.Max(position, _settled);
        if (start >= end)
        {
            return;
        }
        var samples = _samples[track];
        var filled = _filled[track];
        int slot = (int)(start % Capacity);
        for (int i = (int)(start - position), last = (int)(end - position); i < last; i++)
        {
            if (!filled[slot])
            {
                filled[slot] = true;
                samples[slot] = Mulaw.Decode(payload[i]);
            }
            if (++slot == Capacity)
            {
                slot = 0;
            }
        }
    }

    // Writes out samples [_emitted, upTo) and frees their slots (samples no frame gave are zero).
    private void Emit(long upTo)
    {
        int slot = (int)(_emitted % Capacity);
        while (_emitted < upTo)
        {
            int run = (int)Math.Min(Math.Min(upTo - _emitted, Capacity - slot), Batch);
            var inbound = _samples[0].AsSpan(slot, run);
            var outbound = _samples[1].AsSpan(slot, run);
            var pcm = _out.AsSpan(0, run * 2 * _channels);
            if (_channels == 1)
            {
                for (int i = 0; i < run; i++)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(pcm[(2 * i)..], (short)Math.Clamp(inbound[i] + outbound[i], short.MinValue, short.MaxValue));
                }
            }
            else
            {
                for (int i = 0; i < run; i++)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(pcm[(4 * i)..], inbound[i]);
                    BinaryPrimitives.WriteInt16LittleEndian(pcm[(4 * i + 2)..], outbound[i]);
                }
            }
            _output.Write(pcm);
            inbound.Clear();
            outbound.Clear();
            _filled[0].AsSpan(slot, run).Clear();
            _filled[1].AsSpan(slot, run).Clear();
            _emitted += run;
            slot = (slot + run) % Capacity;
        }
    }

    /// <summary>Writes out everything up to the end of the timeline; call after the whole spool.</summary>
    public void Finish()
    {
        if (_carried > 0)
        {
            throw new InvalidDataException("The spool ends inside a record.");
        }
        Emit(_to);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var samples in _samples)
            {
                System.Buffers.ArrayPool<short>.Shared.Return(samples, clearArray: true);
            }
            foreach (var flags in _filled)
            {
                System.Buffers.ArrayPool<bool>.Shared.Return(flags);
            }
        }
        base.Dispose(disposing);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => _output.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
