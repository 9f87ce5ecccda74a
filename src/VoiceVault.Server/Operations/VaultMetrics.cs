using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace VoiceVault.Server.Operations;

/// <summary>
/// The service's own numbers, served at <c>/metrics</c> in the Prometheus text format: counters
/// and fixed-bucket histograms, lock-free to record. No label ever carries a tenant's SID, a URL
/// or anything else from a request.
/// </summary>
public sealed class VaultMetrics
{
    private readonly List<(string Name, string Help, Func<string> Render)> _series = [];

    public VaultMetrics()
    {
        CallbackQueueSeconds = Add(new Histogram("voicevault_callback_queue_seconds",
            "From the state change that queued a status callback to its request leaving the server (first attempts).",
            [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]));
        CallbackDispatchSeconds = Add(new Histogram("voicevault_callback_dispatch_seconds",
            "From the commit of a state change to its status callback's request leaving this instance (first attempts).",
            [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]));
        CallbackDeliveries = Add(new Counter("voicevault_callback_deliveries_total", "Status callback attempts by outcome.", "outcome", ["delivered", "failed"]));
        Uploads = Add(new Counter("voicevault_uploads_total", "Finished recording uploads by final status.", "status", ["completed", "failed", "absent"]));
        UploadBytes = Add(new Counter("voicevault_upload_bytes_total", "Plaintext bytes encrypted and stored from uploads.", null, [""]));
    }

    public Histogram CallbackQueueSeconds { get; }
    public Histogram CallbackDispatchSeconds { get; }
    public Counter CallbackDeliveries { get; }
    public Counter Uploads { get; }
    public Counter UploadBytes { get; }

    /// <summary>Registers a series defined elsewhere (an ingest path's own numbers).</summary>
    public T Add<T>(T series) where T : ISeries
    {
        lock (_series)
        {
            _series.Add((series.Name, series.Help, series.Render));
        }
        return series;
    }

    public string Render()
    {
        var text = new StringBuilder();
        using (var process = Process.GetCurrentProcess())
        {
            Line(text, "process_cpu_seconds_total", "counter", "User and system CPU time of the server process.", process.TotalProcessorTime.TotalSeconds);
            Line(text, "process_resident_memory_bytes", "gauge", "Resident memory of the server process.", process.WorkingSet64);
        }
        Line(text, "dotnet_gc_heap_bytes", "gauge", "Bytes in the managed heap.", GC.GetTotalMemory(false));
        lock (_series)
        {
            foreach (var (name, help, render) in _series)
            {
                text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append(render());
            }
        }
        return text.ToString();
    }

    private static void Line(StringBuilder text, string name, string type, string help, double value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append(' ').Append(Format(value)).Append('\n');

    internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public interface ISeries
    {
        string Name { get; }
        string Help { get; }
        string Render();
    }

    /// <summary>A counter with at most one label, whose values are fixed up front.</summary>
    public sealed class Counter(string name, string help, string? label, string[] values) : ISeries
    {
        private readonly long[] _counts = new long[values.Length];

        public string Name => name;
        public string Help => help;

        public void Add(long amount, string value = "")
        {
            int i = Array.IndexOf(values, value);
            Interlocked.Add(ref _counts[i < 0 ? 0 : i], amount);
        }

        public string Render()
        {
            var text = new StringBuilder("# TYPE ").Append(name).Append(" counter\n");
            for (int i = 0; i < values.Length; i++)
            {
                text.Append(name);
                if (label is not null)
                {
                    text.Append('{').Append(label).Append("=\"").Append(values[i]).Append("\"}");
                }
                text.Append(' ').Append(Interlocked.Read(ref _counts[i])).Append('\n');
            }
            return text.ToString();
        }
    }

    /// <summary>A histogram (of seconds, unless its name says otherwise) with fixed upper bounds.</summary>
    public sealed class Histogram(string name, string help, double[] bounds) : ISeries
    {
        private readonly long[] _buckets = new long[bounds.Length + 1];
        private long _count;
        private long _sumMicros;

        public string Name => name;
        public string Help => help;

        public void Observe(TimeSpan elapsed) => Observe(elapsed.TotalSeconds);

        public void Observe(double value)
        {
            double seconds = Math.Max(0, value);
            int i = 0;
            while (i < bounds.Length && seconds > bounds[i])
            {
                i++;
            }
            Interlocked.Increment(ref _buckets[i]);
            Interlocked.Increment(ref _count);
            Interlocked.Add(ref _sumMicros, (long)(seconds * 1e6));
        }

        public string Render()
        {
            var text = new StringBuilder("# TYPE ").Append(name).Append(" histogram\n");
            long cumulative = 0;
            for (int i = 0; i < bounds.Length; i++)
            {
                cumulative += Interlocked.Read(ref _buckets[i]);
                text.Append(name).Append("_bucket{le=\"").Append(Format(bounds[i])).Append("\"} ").Append(cumulative).Append('\n');
            }
            cumulative += Interlocked.Read(ref _buckets[^1]);
            text.Append(name).Append("_bucket{le=\"+Inf\"} ").Append(cumulative).Append('\n');
            text.Append(name).Append("_sum ").Append(Format(Interlocked.Read(ref _sumMicros) / 1e6)).Append('\n');
            text.Append(name).Append("_count ").Append(Interlocked.Read(ref _count)).Append('\n');
            return text.ToString();
        }
    }
}
