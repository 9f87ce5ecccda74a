using System.Diagnostics;

namespace VoiceVault.Cli;

/// <summary>
/// Progress of long work on stderr: a redrawn bar on a terminal, a plain line every 10 % when
/// stderr is a file or a pipe, nothing when quiet. Reports come from the worker thread.
/// </summary>
internal sealed class ProgressDisplay : IProgress<long>
{
    private readonly string _label;
    private readonly long _total;
    private readonly bool _terminal;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private long _lastDraw = -1;
    private int _lastDecile;
    private bool _drawn;

    private ProgressDisplay(string label, long total, bool terminal)
    {
        _label = label;
        _total = Math.Max(total, 1);
        _terminal = terminal;
    }

    /// <summary>Null when there is nothing worth showing: quiet, or small work.</summary>
    public static ProgressDisplay? For(string label, long total, bool quiet, long threshold)
    {
        if (quiet || total < threshold)
        {
            return null;
        }
        return new ProgressDisplay(label, total, terminal: !Console.IsErrorRedirected);
    }

    public void Report(long value)
    {
        lock (_lock)
        {
            if (_terminal)
            {
                long now = _clock.ElapsedMilliseconds;
                if (now - _lastDraw < 100 && value < _total)
                {
                    return;
                }
                _lastDraw = now;
                double fraction = Math.Min(1.0, (double)value / _total);
                int width = 30;
                int filled = (int)(fraction * width);
                double rate = value / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
                Console.Error.Write($"\r{_label} [{new string('#', filled)}{new string(' ', width - filled)}] {fraction,4:P0} {Units.Bytes(value)}/{Units.Bytes(_total)} {Units.Bytes((long)rate)}/s ");
                _drawn = true;
            }
            else
            {
                int decile = (int)Math.Min(10, value * 10 / _total);
                if (decile > _lastDecile)
                {
                    _lastDecile = decile;
                    Console.Error.WriteLine($"{_label}: {decile * 10}% ({Units.Bytes(value)} of {Units.Bytes(_total)})");
                }
            }
        }
    }

    /// <summary>Ends the bar's line so that the next message starts clean.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            if (_terminal && _drawn)
            {
                Console.Error.WriteLine();
                _drawn = false;
            }
        }
    }
}

internal static class Units
{
    public static string Bytes(long n) => n switch
    {
        >= 1L << 30 => $"{n / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{n / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{n / 1024.0:0.0} KiB",
        _ => $"{n} B",
    };
}
