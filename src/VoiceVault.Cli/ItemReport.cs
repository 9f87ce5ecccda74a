using System.Collections.Concurrent;

namespace VoiceVault.Cli;

/// <summary>
/// How commands that work through many recordings report them on stderr: a bar on a terminal, one
/// line per recording otherwise; the failures are listed after the bar, since the bar hides their
/// lines; nothing when quiet or writing JSON. Items are reported from worker threads.
/// </summary>
internal sealed class ItemReport(string label, int total, bool quiet)
{
    private readonly ProgressDisplay? _bar = Console.IsErrorRedirected ? null : ProgressDisplay.For(label, total, quiet, 1);
    private readonly ConcurrentQueue<string> _failures = new();
    private int _done;

    /// <summary>One recording's outcome: <paramref name="line"/> is what the line-per-recording form prints.</summary>
    public void Item(string line, bool failed)
    {
        if (failed)
        {
            _failures.Enqueue(line);
        }
        int n = Interlocked.Increment(ref _done);
        if (_bar is not null)
        {
            _bar.Report(n);
        }
        else if (!quiet)
        {
            Console.Error.WriteLine(line);
        }
    }

    /// <summary>Ends the bar and lists the failures it hid.</summary>
    public void Finish()
    {
        if (_bar is null)
        {
            return;
        }
        _bar.Finish();
        foreach (var line in _failures)
        {
            Console.Error.WriteLine(line);
        }
    }

    /// <summary>The line of a failure: <c>failed   X: error (hint: …)</c>.</summary>
    public static string Failure(string item, string? error, string? hint) =>
        $"failed   {item}: {error}" + (hint is null ? "" : $" (hint: {hint})");
}
