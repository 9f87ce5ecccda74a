using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Core;

/// <summary>
/// Several instances on one database: each writes a heartbeat every third of
/// <see cref="VaultOptions.InstanceLeaseSeconds"/>, and ends — failed, 16104, with callback and
/// notification — the unfinished recordings of instances that stopped writing theirs (crashed,
/// killed, gone) and their spools. A restart under the same <see cref="VaultOptions.InstanceId"/>
/// ends its own at once.
/// </summary>
public sealed class InstanceLease(IInstanceStore instances, RecordingLifecycle lifecycle, IMediaStore media, VaultOptions options,
    TimeProvider clock, ILogger<InstanceLease> log) : BackgroundService
{
    private TimeSpan Lease => TimeSpan.FromSeconds(options.InstanceLeaseSeconds);

    /// <summary>Before serving: this instance's unfinished recordings from before a restart and those of dead instances end; spools no live instance holds are deleted.</summary>
    public async Task RecoverAtStartAsync()
    {
        var now = clock.GetUtcNow();
        await EndAsync(await instances.AbandonedAsync(options.InstanceId, includeOwn: true, now - Lease));
        // Spools of calls a stopped process was recording: ciphertext whose key died with it. Those
        // of calls another live instance on this data folder is recording stay.
        var held = await instances.HeldByOthersAsync(options.InstanceId, now - Lease);
        if (Directory.Exists(options.SpoolDir))
        {
            foreach (var file in Directory.EnumerateFiles(options.SpoolDir))
            {
                if (!held.Contains(Path.GetFileNameWithoutExtension(file)))
                {
                    File.Delete(file);
                }
            }
        }
        await instances.HeartbeatAsync(options.InstanceId, now);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Lease / 3);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var now = clock.GetUtcNow();
                await instances.HeartbeatAsync(options.InstanceId, now);
                await EndAsync(await instances.AbandonedAsync(options.InstanceId, includeOwn: false, now - Lease, stoppingToken));
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
            await lifecycle.EndAbandonedAsync(recording, media);
            log.LogWarning("Recording {RecordingSid} ({Status}) was left unfinished by a stopped instance: failed (16104), its bytes deleted",
                recording.Sid, recording.Status.Text());
        }
    }
}
