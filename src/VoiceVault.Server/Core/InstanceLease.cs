
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Core;

/// <summary>
/// Several instances on one database: each writes a heartbeat every third of
/// <see cref="VaultOptions.InstanceLeaseSeconds"/>, and ends — failed, 16104, with callback and
/// notification — the unfinished recordings of instances that stopped writing theirs (crashed,
/// killed, gone) and their spools. A restart under the same <see cref="VaultOptions.InstanceId"/>
/// ends its own at once.
/// </summary>
public sealed class InstanceLease(IInstanceStore instances, IRecordingStore recordings, RecordingLifecycle lifecycle, IMediaStore media, VaultOptions options,
    TimeProvider clock, ILogger<InstanceLease> log, IHostApplicationLifetime lifetime, Microsoft.AspNetCore.Hosting.Server.IServer server) : BackgroundService
{
    private TimeSpan Lease => TimeSpan.FromSeconds(options.InstanceLeaseSeconds);

    /// <summary>Before serving: this instance's unfinished recordings from before a restart and those of dead instances end; spools no live instance holds are deleted.</summary>
    public async Task RecoverAtStartAsync()
    {
        var now = clock.GetUtcNow();
        await EndAsync(await instances.AbandonedAsync(options.InstanceId, includeOwn: true, now - Lease));
        await instances.EndLiveCallsAsync(options.InstanceId);
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

    /// <summary>
    /// Where other instances reach this one: <see cref="VaultOptions.InstanceUrl"/>, or the address
    /// Kestrel listens on when that names a host (not 0.0.0.0 or [::]); null when neither is known.
    /// </summary>
    public string? Address()
    {
        if (!string.IsNullOrEmpty(options.InstanceUrl))
        {
            return options.InstanceUrl;
        }
        var addresses = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
        return addresses.Select(a => Uri.TryCreate(a, UriKind.Absolute, out var uri) ? uri : null)
            .FirstOrDefault(uri => uri is not null && uri.Host is not ("0.0.0.0" or "[::]" or "+" or "*"))?.GetLeftPart(UriPartial.Authority);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Once listening, the instance says where it can be reached.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        await instances.HeartbeatAsync(options.InstanceId, clock.GetUtcNow(), Address());
        using var timer = new PeriodicTimer(Lease / 3);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var now = clock.GetUtcNow();
                await instances.HeartbeatAsync(options.InstanceId, now, Address());
                await EndAsync(await instances.AbandonedAsync(options.InstanceId, includeOwn: false, now - Lease, stoppingToken));
                await SweepAsync(now - Lease, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LeaseRoundFailed(e, options.InstanceId, (Lease / 3).TotalSeconds);
            }
        }
    }

    /// <summary>
    /// Unfinished writes in the media store whose recording is no longer being written (it ended,
    /// or never existed): what was left when the store could not be reached to clean up. Those of
    /// unfinished recordings stay — their instance is writing them, or, if it died, the lease ends
    /// the recording and its writes with it.
    /// </summary>
    private async Task SweepAsync(DateTimeOffset startedBefore, CancellationToken cancellationToken)
    {
        foreach (var key in await media.UnfinishedWritesAsync(startedBefore, cancellationToken))
        {
            var recording = await recordings.FindAsync(key[(key.LastIndexOf('/') + 1)..], cancellationToken: cancellationToken);
            if (recording is { IsUnfinished: true })
            {
                continue;
            }
            await media.AbortUnfinishedAsync(key, cancellationToken);
            log.StaleWriteAborted(key, recording?.Status.Text() ?? "gone");
        }
    }

    private async Task EndAsync(IReadOnlyList<Recording> abandoned)
    {
        foreach (var recording in abandoned)
        {
            await lifecycle.EndAbandonedAsync(recording, media);
            log.AbandonedRecordingEnded(recording.Sid, recording.Status.Text());
        }
    }
}
