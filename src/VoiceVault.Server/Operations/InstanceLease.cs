using VoiceVault.Server.Live;
using VoiceVault.Server.Recordings;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Operations;

/// <summary>
/// Several instances on one database: each writes a heartbeat every third of
/// <see cref="VaultOptions.InstanceLeaseSeconds"/>, and ends — failed, 16104, with callback and
/// notification — the unfinished recordings of instances that stopped writing theirs (crashed,
/// killed, gone) and their spools. A restart under the same <see cref="VaultOptions.InstanceId"/>
/// ends its own at once.
/// </summary>
public sealed class InstanceLease(RecordingStore recordings, IMediaStore media, LiveRecordingServices live, VaultOptions options,
    TimeProvider clock, ILogger<InstanceLease> log) : BackgroundService
{
    private TimeSpan Lease => TimeSpan.FromSeconds(options.InstanceLeaseSeconds);

    /// <summary>Before serving: this instance's unfinished recordings from before a restart and those of dead instances end; spools no live instance holds are deleted.</summary>
    public async Task RecoverAtStartAsync()
    {
        var now = clock.GetUtcNow();
        await EndAsync(await recordings.AbandonedAsync(includeOwn: true, now - Lease));
        // Spools of calls a stopped process was recording: ciphertext whose key died with it. Those
        // of calls another live instance on this data folder is recording stay.
        var held = await recordings.HeldByOthersAsync(now - Lease);
        if (Directory.Exists(live.SpoolDir))
        {
            foreach (var file in Directory.EnumerateFiles(live.SpoolDir))
            {
                if (!held.Contains(Path.GetFileNameWithoutExtension(file)))
                {
                    File.Delete(file);
                }
            }
        }
        await recordings.HeartbeatAsync(now);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Lease / 3);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var now = clock.GetUtcNow();
                await recordings.HeartbeatAsync(now);
                await EndAsync(await recordings.AbandonedAsync(includeOwn: false, now - Lease));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Instance {Instance}: heartbeat or recovery round failed; trying again in {Seconds} s", options.InstanceId, (Lease / 3).TotalSeconds);
            }
        }
    }

    private async Task EndAsync(IReadOnlyList<Recording> abandoned)
    {
        foreach (var recording in abandoned)
        {
            await media.DeleteAsync($"{recording.AccountSid}/{recording.Sid}");
            var spool = Path.Combine(live.SpoolDir, recording.Sid + ".spool");
            if (File.Exists(spool))
            {
                File.Delete(spool);
            }
            await recordings.EndWithoutMediaAsync(recording, "failed", 16104, recording.Status == "processing"
                ? "The server stopped while the recording was being stored; its bytes were deleted."
                : "The server stopped during the live call; the audio recorded so far was encrypted under a key that existed only in its memory and was deleted.");
            log.LogWarning("Recording {RecordingSid} ({Status}) was left unfinished by a stopped instance: failed (16104), its bytes deleted", recording.Sid, recording.Status);
        }
    }
}
