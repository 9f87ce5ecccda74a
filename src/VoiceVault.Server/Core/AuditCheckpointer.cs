using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Core;

/// <summary>Where checkpoints go besides the vault (<c>VoiceVault:Audit:WitnessUrl</c>): true when the witness took it.</summary>
public interface IAuditWitness
{
    bool Configured { get; }

    /// <summary>Sends <paramref name="checkpoint"/>; throws with what went wrong when the witness did not take it.</summary>
    Task SendAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken);
}

/// <summary>
/// The audit trail's timer (docs/audit.md): makes the first signing key at start; every
/// <c>CheckpointSeconds</c> checkpoints each chain with events after its newest checkpoint; hands
/// pending checkpoints to the witness, retrying with growing delays (the checkpoints table is the
/// witness's outbox, shared by every instance); with <c>RetentionDays</c>, prunes each chain's
/// events older than that up to its newest checkpoint that signs only older ones — the chain's new
/// anchor — and records the prune (<c>audit.prune</c>) in the chain itself.
/// </summary>
public sealed class AuditCheckpointer(AuditCheckpoints checkpoints, AuditSigner signer, IAuditStore store, IAuditWitness witness, AuditTrail audit,
    IVaultDatabase database, TimeProvider clock, VaultOptions options, ILogger<AuditCheckpointer> log) : BackgroundService
{
    private static readonly TimeSpan WitnessLease = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MaxWitnessDelay = TimeSpan.FromHours(1);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await signer.EnsureAsync();
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(options.Audit.CheckpointSeconds);
        var tick = every < TimeSpan.FromSeconds(5) ? every : TimeSpan.FromSeconds(5);
        var nextCheckpoint = clock.GetUtcNow() + every;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(tick, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (clock.GetUtcNow() >= nextCheckpoint)
            {
                nextCheckpoint = clock.GetUtcNow() + every;
                await CheckpointAllAsync(stoppingToken);
                await PruneAsync(stoppingToken);
            }
            if (witness.Configured)
            {
                await WitnessAsync(stoppingToken);
            }
        }
    }

    /// <summary>Checkpoints every chain with events after its newest checkpoint.</summary>
    public async Task CheckpointAllAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            foreach (var account in await store.ChainsAheadOfCheckpointsAsync(cancellationToken))
            {
                await checkpoints.CreateAsync(account);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.CheckpointFailed(e.Message);
        }
    }

    /// <summary>Prunes what <c>RetentionDays</c> lets go, up to checkpoints (nothing when it is unset).</summary>
    public async Task PruneAsync(CancellationToken cancellationToken = default)
    {
        if (options.Audit.RetentionDays is not { } days)
        {
            return;
        }
        try
        {
            foreach (var anchor in await store.PruneCandidatesAsync(clock.GetUtcNow() - TimeSpan.FromDays(days), cancellationToken))
            {
                await database.WriteAsync(async scope =>
                {
                    long pruned = await store.PruneAsync(scope, anchor);
                    await audit.AppendAsync(scope, Audited.Pruned(anchor, pruned, days));
                    return pruned;
                });
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.CheckpointFailed(e.Message);
        }
    }

    /// <summary>Sends the checkpoints due for the witness.</summary>
    public async Task WitnessAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var now = clock.GetUtcNow();
            foreach (var due in await store.ClaimWitnessAsync(now, now + WitnessLease, 32, cancellationToken))
            {
                try
                {
                    await witness.SendAsync(due.Checkpoint, cancellationToken);
                    await store.WitnessAnsweredAsync(due.Checkpoint.Sid, due.Attempts + 1, null, null);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    var delay = TimeSpan.FromSeconds(Math.Min(MaxWitnessDelay.TotalSeconds, 5 * Math.Pow(2, Math.Min(due.Attempts, 20))));
                    await store.WitnessAnsweredAsync(due.Checkpoint.Sid, due.Attempts + 1, e.Message, clock.GetUtcNow() + delay);
                    log.WitnessRefused(due.Checkpoint.AccountSid, due.Checkpoint.Sequence, e.Message, delay.TotalSeconds);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.CheckpointFailed(e.Message);
        }
    }
}
