using System.Diagnostics.Metrics;

namespace VoiceVault.Server.Operations;

/// <summary>
/// The service's own instruments, on <see cref="System.Diagnostics.Metrics"/> (meter
/// <c>VoiceVault</c>), named as OpenTelemetry names them; the Prometheus exporter at
/// <c>/metrics</c> turns <c>voicevault.uploads</c> into <c>voicevault_uploads_total</c> and
/// <c>voicevault.callback.queue</c> (seconds) into <c>voicevault_callback_queue_seconds</c>, beside
/// the meters of Kestrel, HttpClient, Npgsql and the runtime. No tag ever carries a tenant's SID,
/// a URL or anything else from a request.
/// </summary>
public sealed class VaultMetrics : IDisposable
{
    public const string MeterName = "VoiceVault";
    private static readonly double[] Latency = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly Meter _meter;
    private readonly bool _owned;

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
        CallbackQueueSeconds = CreateHistogram("voicevault.callback.queue",
            "From the state change that queued a status callback to its request leaving the server (first attempts).", Latency);
        CallbackDispatchSeconds = CreateHistogram("voicevault.callback.dispatch",
            "From the commit of a state change to its status callback's request leaving this instance (first attempts).", Latency);
        CallbackDeliveries = CreateCounter("voicevault.callback.deliveries", null, "Status callback attempts by outcome (delivered, failed).", "outcome");
        Uploads = CreateCounter("voicevault.uploads", null, "Finished recording uploads by final status (completed, failed, absent).", "status");
        UploadBytes = CreateCounter("voicevault.upload", "By", "Plaintext bytes encrypted and stored from uploads.", null);
    }

    public Histogram CallbackQueueSeconds { get; }
    public Histogram CallbackDispatchSeconds { get; }
    public Counter CallbackDeliveries { get; }
    public Counter Uploads { get; }
    public Counter UploadBytes { get; }

    /// <summary>A counter with at most one tag (<paramref name="label"/>), whose values the caller fixes.</summary>
    public Counter CreateCounter(string name, string? unit, string description, string? label) =>
        new(_meter.CreateCounter<long>(name, unit, description), label);

    /// <summary>A gauge read when metrics are collected.</summary>
    public void CreateGauge(string name, string? unit, string description, Func<long> read) =>
        _meter.CreateObservableGauge(name, read, unit, description);

    /// <summary>A histogram of seconds with these bucket bounds.</summary>
    public Histogram CreateHistogram(string name, string description, double[] bounds) => CreateHistogram(name, "s", description, bounds);

    public Histogram CreateHistogram(string name, string? unit, string description, double[] bounds) =>
        new(_meter.CreateHistogram(name, unit, description, tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = bounds }));

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
