using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Live;

/// <summary>What recording a live call takes: the stores, the master key, where spools go, and the live metrics.</summary>
public sealed class LiveRecordingServices(RecordingLifecycle lifecycle, IMediaStore media,
    MasterKey masterKey, VaultOptions options, ILogger<LiveCall> log, LiveMetrics metrics)
{
    public RecordingLifecycle Lifecycle { get; } = lifecycle;
    public IMediaStore Media { get; } = media;
    public MasterKey MasterKey { get; } = masterKey;
    public ILogger Log { get; } = log;
    public LiveMetrics Metrics { get; } = metrics;

    /// <summary>The folder of the recordings' spools (created on first use; emptied at startup).</summary>
    public string SpoolDir { get; } = options.SpoolDir;
}

/// <summary>The live streams' series in /metrics.</summary>
public sealed class LiveMetrics(VaultMetrics metrics)
{
    public VaultMetrics.Counter FramesReceived { get; } = metrics.CreateCounter("voicevault.stream.frames.received", null,
        "Media frames taken from live streams (counted once handled).", null);

    public VaultMetrics.Counter FramesRecorded { get; } = metrics.CreateCounter("voicevault.stream.frames.recorded", null,
        "Media frames encrypted into a recording's spool.", null);

    public VaultMetrics.Histogram FrameSeconds { get; } = metrics.CreateHistogram("voicevault.stream.frame",
        "From a media message's arrival to its audio being encrypted.", [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);

    public VaultMetrics.Histogram StopSeconds { get; } = metrics.CreateHistogram("voicevault.stream.stop",
        "From the end of a call (stop, close) to its recordings stored and their callbacks on their way.",
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 10]);
}
