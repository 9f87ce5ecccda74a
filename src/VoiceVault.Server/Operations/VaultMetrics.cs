using System.Diagnostics.Metrics;

namespace VoiceVault.Server.Operations;

/// <summary>
/// Every instrument of the service, here and nowhere else, on <see cref="System.Diagnostics.Metrics"/>
/// (meter <c>VoiceVault</c>), named by OpenTelemetry's conventions: dot-separated namespaces, a
/// histogram of a time ends in <c>.duration</c> with unit <c>s</c>, sizes carry the unit <c>By</c>
/// and no unit word in the name, counts of discrete things are plural. The Prometheus exporter at
/// <c>/metrics</c> turns <c>voicevault.uploads</c> into <c>voicevault_uploads_total</c> and
/// <c>voicevault.callback.queue.duration</c> into <c>voicevault_callback_queue_duration_seconds</c>,
/// beside the meters of Kestrel, HttpClient, Npgsql and the runtime. No tag ever carries a tenant's
/// SID, a URL or anything else from a request. Renamed series are listed in docs/operations.md.
/// </summary>
public sealed class VaultMetrics : IDisposable
{
    public const string MeterName = "VoiceVault";
    private static readonly double[] Latency = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] Commit = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
    private readonly Meter _meter;
    private readonly bool _owned;
    private Func<long> _activeStreams = () => 0;

    public VaultMetrics(IMeterFactory meters)
        : this(meters.Create(MeterName), owned: false)
    {
    }

    /// <summary>Instruments on a meter of their own (tests, tools).</summary>
    public VaultMetrics()
        : this(new Meter(MeterName), owned: true)
    {
    }

    private VaultMetrics(Meter meter, bool owned)
    {
        _meter = meter;
        _owned = owned;
        CallbackQueueSeconds = Seconds("voicevault.callback.queue.duration",
            "From the state change that queued a status callback to its request leaving the server (first attempts).", Latency);
        CallbackDispatchSeconds = Seconds("voicevault.callback.dispatch.duration",
            "From the commit of a state change to its status callback's request leaving this instance (first attempts).", Latency);
        CallbackDeliveries = Count("voicevault.callback.deliveries", "{attempt}", "Status callback attempts by outcome (delivered, failed).", "outcome");
        Uploads = Count("voicevault.uploads", "{upload}", "Finished recording uploads by final status (completed, failed, absent).", "status");
        UploadPlaintext = Count("voicevault.upload.plaintext", "By", "Plaintext bytes encrypted and stored from uploads.", null);
        FramesReceived = Count("voicevault.stream.frames.received", "{frame}", "Media frames taken from live streams (counted once handled).", null);
        FramesRecorded = Count("voicevault.stream.frames.recorded", "{frame}", "Media frames encrypted into a recording's spool.", null);
        FrameSeconds = Seconds("voicevault.stream.frame.duration", "From a media message's arrival to its audio being encrypted.",
            [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
        StopSeconds = Seconds("voicevault.stream.stop.duration", "From the end of a call (stop, close) to its recordings stored and their callbacks on their way.",
            [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 10]);
        _meter.CreateObservableUpDownCounter("voicevault.stream.active", () => _activeStreams(), "{call}", "Calls streaming into this instance now.");
        WriteWaitSeconds = Seconds("voicevault.db.write_wait.duration", "From a write being queued to its transaction starting (SQLite's group commit).", Commit);
        CommitSeconds = Seconds("voicevault.db.commit.duration", "Duration of one group-commit transaction (SQLite).", Commit);
        CommitUnits = new(_meter.CreateHistogram("voicevault.db.commit.units", "{unit}", "Units of work committed together (SQLite's group commit).", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] }));
    }

    /// <summary>The meter every instrument here is on.</summary>
    public Meter Meter => _meter;

    public Histogram CallbackQueueSeconds { get; }
    public Histogram CallbackDispatchSeconds { get; }
    public Counter CallbackDeliveries { get; }
    public Counter Uploads { get; }
    public Counter UploadPlaintext { get; }
    public Counter FramesReceived { get; }
    public Counter FramesRecorded { get; }
    public Histogram FrameSeconds { get; }
    public Histogram StopSeconds { get; }
    public Histogram WriteWaitSeconds { get; }
    public Histogram CommitSeconds { get; }
    public Histogram CommitUnits { get; }

    /// <summary>Where <c>voicevault.stream.active</c> reads the number of calls streaming in (the live-call registry).</summary>
    public void ObserveActiveStreams(Func<long> read) => _activeStreams = read;

    private Counter Count(string name, string unit, string description, string? label) =>
        new(_meter.CreateCounter<long>(name, unit, description), label);

    private Histogram Seconds(string name, string description, double[] bounds) =>
        new(_meter.CreateHistogram(name, "s", description, tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = bounds }));

    public void Dispose()
    {
        if (_owned)
        {
            _meter.Dispose();
        }
    }

    public sealed class Counter(Counter<long> inner, string? label)
    {
        public void Add(long amount, string value = "")
        {
            if (label is null)
            {
                inner.Add(amount);
            }
            else
            {
                inner.Add(amount, new KeyValuePair<string, object?>(label, value));
            }
        }
    }

    public sealed class Histogram(Histogram<double> inner)
    {
        public void Observe(TimeSpan elapsed) => inner.Record(Math.Max(0, elapsed.TotalSeconds));

        public void Observe(double value) => inner.Record(value);
    }
}
