using System.Buffers.Binary;
using VoiceVault.Server.Live;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The live recorder's renderer against a plain model of the timeline rules (docs/format.md §8):
/// the first copy of a sample wins, samples no frame gave are silence, a frame more than the window
/// behind the newest is dropped, mono mixes and clips, dual interleaves — over calls several windows
/// long, with the spool fed in pieces that split records.
/// </summary>
public sealed class TimelineRendererTests
{
    private sealed record Frame(int Track, long Position, byte[] Mulaw);

    [Theory]
    [InlineData(1, 1, 0, null)]
    [InlineData(2, 2, 0, null)]
    [InlineData(3, 1, 12_345, 300_000L)]
    [InlineData(4, 2, 80_000, 200_000L)]
    public void Renders_what_the_timeline_rules_say(int seed, int channels, long from, long? toOrNull)
    {
        var random = new Random(seed);
        var frames = Call(random, seconds: 45);
        long to = toOrNull ?? frames.Max(f => f.Position + f.Mulaw.Length);

        var spool = new MemoryStream();
        foreach (var f in frames)
        {
            var record = new byte[SpoolRecord.HeaderSize + f.Mulaw.Length];
            SpoolRecord.WriteHeader(record, f.Track, f.Mulaw.Length, f.Position);
            f.Mulaw.CopyTo(record, SpoolRecord.HeaderSize);
            spool.Write(record);
        }
        var output = new MemoryStream();
        using (var renderer = new TimelineRenderer(output, channels, from, to))
        {
            var bytes = spool.ToArray();
            for (int at = 0; at < bytes.Length;)
            {
                int piece = Math.Min(bytes.Length - at, random.Next(1, 700));
                renderer.Write(bytes, at, piece);
                at += piece;
            }
            renderer.Finish();
        }

        Assert.Equal(Model(frames, channels, from, to), output.ToArray());
    }

    [Fact]
    public void A_spool_that_ends_inside_a_record_is_refused()
    {
        var record = new byte[SpoolRecord.HeaderSize + 160];
        SpoolRecord.WriteHeader(record, 0, 160, 0);
        using var renderer = new TimelineRenderer(Stream.Null, 1, 0, 160);
        renderer.Write(record, 0, record.Length - 1);
        Assert.Throws<InvalidDataException>(renderer.Finish);
    }

    // Both tracks in 20 ms frames with lost frames, duplicates (some with other bytes), frames
    // reordered by up to 9.8 s, a few 12 s late (beyond the window), and odd-sized frames.
    private static List<Frame> Call(Random random, int seconds)
    {
        var frames = new List<Frame>();
        for (long position = 0; position < seconds * 8000L; position += 160)
        {
            foreach (int track in new[] { 0, 1 })
            {
                if (random.Next(20) == 0)
                {
                    continue; // lost
                }
                int length = random.Next(30) == 0 ? random.Next(1, 320) : 160;
                var mulaw = new byte[length];
                random.NextBytes(mulaw);
                var frame = new Frame(track, position, mulaw);
                int roll = random.Next(100);
                if (roll < 4 && frames.Count > 0)
                {
                    frames.Insert(Math.Max(0, frames.Count - random.Next(1, 980)), frame); // up to ~9.8 s early in arrival, i.e. late
                }
                else if (roll < 5)
                {
                    frames.Insert(Math.Max(0, frames.Count - 1200), frame); // 12 s: outside the window
                }
                else
                {
                    frames.Add(frame);
                }
                if (random.Next(25) == 0)
                {
                    var copy = random.Next(2) == 0 ? mulaw : RandomBytes(random, length);
                    frames.Insert(Math.Max(0, frames.Count - random.Next(0, 50)), frame with { Mulaw = copy });
                }
            }
        }
        return frames; // in arrival order
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    // The rules, written the obvious way: samples by position, first copy wins, a sample more than
    // the window behind the newest frame end seen so far (this frame included) is final.
    private static byte[] Model(List<Frame> frames, int channels, long from, long to)
    {
        var tracks = new[] { new Dictionary<long, short>(), new Dictionary<long, short>() };
        long newest = long.MinValue;
        foreach (var f in frames)
        {
            long end = Math.Min(f.Position + f.Mulaw.Length, to);
            newest = Math.Max(newest, end);
            for (long at = Math.Max(f.Position, from); at < end; at++)
            {
                if (at >= newest - TimelineRenderer.Window)
                {
                    tracks[f.Track].TryAdd(at, Mulaw.Decode(f.Mulaw[at - f.Position]));
                }
            }
        }
        var pcm = new byte[(to - from) * 2 * channels];
        for (long at = from; at < to; at++)
        {
            short inbound = tracks[0].GetValueOrDefault(at), outbound = tracks[1].GetValueOrDefault(at);
            int offset = (int)(at - from) * 2 * channels;
            if (channels == 1)
            {
                BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(offset), (short)Math.Clamp(inbound + outbound, short.MinValue, short.MaxValue));
            }
            else
            {
                BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(offset), inbound);
                BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(offset + 2), outbound);
            }
        }
        return pcm;
    }
}
