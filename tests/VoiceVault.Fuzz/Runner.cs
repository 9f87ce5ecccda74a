using System.Diagnostics;
using CsCheck;

namespace VoiceVault.Fuzz;

/// <summary>What a run of one target found.</summary>
public sealed class FuzzReport(string name)
{
    public string Name { get; } = name;

    public long Inputs;

    /// <summary>Unexpected exceptions, one per kind (type and message), with the shortest input that raised it.</summary>
    public Dictionary<string, byte[]> Crashes { get; } = new(StringComparer.Ordinal);

    /// <summary>Inputs that took longer than <see cref="FuzzRunner.HangAfter"/>.</summary>
    public long Hangs;

    /// <summary>Inputs that allocated more than <see cref="FuzzRunner.AllocationLimit"/>.</summary>
    public long OverAllocated;

    public double SlowestMs;

    public byte[] SlowestInput = [];

    public long MostAllocated;

    public double Seconds;
}

/// <summary>Runs a target's inputs through its parser, timing and weighing each (CsCheck generates them).</summary>
public static class FuzzRunner
{
    public static readonly TimeSpan HangAfter = TimeSpan.FromSeconds(1);

    public const long AllocationLimit = 64L << 20;

    public static FuzzReport Run(FuzzTarget target, long count, string? seed = null, int threads = 1)
    {
        var report = new FuzzReport(target.Name);
        var clock = Stopwatch.StartNew();
        Check.Sample(target.Inputs, input =>
        {
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            long started = Stopwatch.GetTimestamp();
            string? crash = null;
            try
            {
                target.Run(input);
            }
            catch (Exception e) when (!target.Expected(e))
            {
                // One kind per exception type and message shape (positions and numbers vary).
                var shape = System.Text.RegularExpressions.Regex.Replace(e.Message, "[0-9]+", "#");
                crash = $"{e.GetType().FullName}: {shape[..Math.Min(shape.Length, 120)]}";
            }
            catch (Exception)
            {
                // Its documented answer to bad input.
            }
            var elapsed = Stopwatch.GetElapsedTime(started);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            lock (report)
            {
                report.Inputs++;
                if (crash is not null && (!report.Crashes.TryGetValue(crash, out var shortest) || input.Length < shortest.Length))
                {
                    report.Crashes[crash] = input;
                }
                if (elapsed > HangAfter)
                {
                    report.Hangs++;
                }
                if (allocated > AllocationLimit)
                {
                    report.OverAllocated++;
                }
                if (elapsed.TotalMilliseconds > report.SlowestMs)
                {
                    report.SlowestMs = elapsed.TotalMilliseconds;
                    report.SlowestInput = input;
                }
                report.MostAllocated = Math.Max(report.MostAllocated, allocated);
            }
        }, seed: seed, iter: count, threads: threads);
        report.Seconds = clock.Elapsed.TotalSeconds;
        return report;
    }
}
