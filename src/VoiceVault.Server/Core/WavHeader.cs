using System.Buffers.Binary;
using System.Text;

namespace VoiceVault.Server.Core;

/// <summary>What the vault reads of a WAV before encrypting it: enough for channels and duration.</summary>
public sealed record WavHeader(int Channels, int SampleRate, int ByteRate, long DataOffset, long DataSize)
{
    /// <summary>Parses the head of a RIFF/WAVE file, or says what is wrong with it.</summary>
    public static WavHeader Parse(ReadOnlySpan<byte> head, out string? problem)
    {
        problem = null;
        if (head.Length < 12 || !head[..4].SequenceEqual("RIFF"u8) || !head[8..12].SequenceEqual("WAVE"u8))
        {
            problem = head.IsEmpty ? "the body is empty" : "the body is not a RIFF/WAVE file (it must start with RIFF....WAVE)";
            return null!;
        }
        int channels = 0, sampleRate = 0, byteRate = 0;
        long offset = 12;
        while (offset + 8 <= head.Length)
        {
            var id = Encoding.ASCII.GetString(head.Slice((int)offset, 4));
            long size = BinaryPrimitives.ReadUInt32LittleEndian(head[((int)offset + 4)..]);
            if (id == "fmt ")
            {
                if (offset + 8 + 16 > head.Length || size < 16)
                {
                    problem = "the WAV fmt chunk is truncated";
                    return null!;
                }
                var fmt = head.Slice((int)offset + 8, 16);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
                sampleRate = BinaryPrimitives.ReadInt32LittleEndian(fmt[4..]);
                byteRate = BinaryPrimitives.ReadInt32LittleEndian(fmt[8..]);
            }
            else if (id == "data")
            {
                if (channels is < 1 or > 2 || byteRate <= 0)
                {
                    problem = channels == 0 ? "the WAV has no fmt chunk before its data" : $"the WAV has {channels} channels at {byteRate} bytes/s; recordings are mono or dual";
                    return null!;
                }
                return new WavHeader(channels, sampleRate, byteRate, offset + 8, size);
            }
            offset += 8 + size + (size & 1);
        }
        problem = "no WAV data chunk in the first 64 KiB";
        return null!;
    }

    /// <summary>Whole seconds of audio, from the data chunk (or, for a streamed WAV with no size, from the bytes received).</summary>
    public long DurationSeconds(long totalBytes)
    {
        long data = DataSize is 0 or 0xFFFFFFFF || DataOffset + DataSize > totalBytes ? Math.Max(0, totalBytes - DataOffset) : DataSize;
        return (long)Math.Round(data / (double)ByteRate, MidpointRounding.AwayFromZero);
    }

    /// <summary>Writes the 44-byte header of a 16-bit PCM WAV with <paramref name="dataBytes"/> of samples.</summary>
    public static void Write(Span<byte> header, int channels, int sampleRate, long dataBytes)
    {
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(36 + dataBytes));
        "WAVEfmt "u8.CopyTo(header[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], (uint)(sampleRate * channels * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], (ushort)(channels * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)dataBytes);
    }
}
