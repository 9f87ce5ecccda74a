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
public sealed class TimelineRenderer(Stream output, int channels, long from, long to) : Stream
{
    private readonly long _from = from;
    public const int Window = 10 * 8000;
    private readonly short[][] _samples = [System.Buffers.ArrayPool<short>.Shared.Rent(Window), System.Buffers.ArrayPool<short>.Shared.Rent(Window)];
    private readonly bool[][] _filled = [NewFlags(), NewFlags()];

    private static bool[] NewFlags()
    {
        var flags = System.Buffers.ArrayPool<bool>.Shared.Rent(Window);
        Array.Clear(flags);
        return flags;
    }
    private readonly byte[] _out = new byte[16 * 1024];
    private readonly byte[] _carry = new byte[SpoolRecord.HeaderSize + ushort.MaxValue];
    private int _carried;
    private long _emitted = from;

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
        long end = Math.Min(position + payload.Length, to);
        if (end - Window > _emitted)
        {
            Emit(end - Window);
        }
        for (long at = Math.Max(position, _from); at < end; at++)
        {
            if (at < _emitted)
            {
                continue; // its place was written out already: older than the window
            }
            int slot = (int)(at % Window);
            if (!_filled[track][slot])
            {
                _filled[track][slot] = true;
                _samples[track][slot] = Mulaw.Decode(payload[(int)(at - position)]);
            }
        }
    }

    // Writes out samples [_emitted, upTo) and frees their slots.
    private void Emit(long upTo)
    {
        int n = 0;
        for (; _emitted < upTo; _emitted++)
        {
            int slot = (int)(_emitted % Window);
            short inbound = _filled[0][slot] ? _samples[0][slot] : (short)0;
            short outbound = _filled[1][slot] ? _samples[1][slot] : (short)0;
            _filled[0][slot] = _filled[1][slot] = false;
            if (channels == 1)
            {
                BinaryPrimitives.WriteInt16LittleEndian(_out.AsSpan(n), (short)Math.Clamp(inbound + outbound, short.MinValue, short.MaxValue));
                n += 2;
            }
            else
            {
                BinaryPrimitives.WriteInt16LittleEndian(_out.AsSpan(n), inbound);
                BinaryPrimitives.WriteInt16LittleEndian(_out.AsSpan(n + 2), outbound);
                n += 4;
            }
            if (n == _out.Length)
            {
                output.Write(_out, 0, n);
                n = 0;
            }
        }
        output.Write(_out, 0, n);
    }

    /// <summary>Writes out everything up to the end of the timeline; call after the whole spool.</summary>
    public void Finish()
    {
        if (_carried > 0)
        {
            throw new InvalidDataException("The spool ends inside a record.");
        }
        Emit(to);
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
    public override void Flush() => output.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
