using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Live;

/// <summary>What recording a live call takes: the stores, the master key, where spools go, and the live metrics.</summary>
public sealed class LiveRecordingServices(RecordingLifecycle lifecycle, IMediaStore media,
    MasterKey masterKey, VaultOptions options, ILogger<LiveCall> log, VaultMetrics metrics)
{
    public RecordingLifecycle Lifecycle { get; } = lifecycle;
    public IMediaStore Media { get; } = media;
    public MasterKey MasterKey { get; } = masterKey;
    public ILogger Log { get; } = log;
    public VaultMetrics Metrics { get; } = metrics;

    /// <summary>The folder of the recordings' spools (created on first use; emptied at startup).</summary>
    public string SpoolDir { get; } = options.SpoolDir;
}
