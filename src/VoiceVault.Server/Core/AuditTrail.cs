using System.Threading.Channels;

namespace VoiceVault.Server.Core;

/// <summary>The audit trail cannot record an event now; the request it describes must fail (503, code 90003), not go unrecorded.</summary>
public sealed class AuditUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Writes audit events (docs/audit.md), the one writer of the chains. Two ways in: a change
/// appends its event inside its own transaction (<see cref="AppendAsync"/>: the change and its
/// record commit together or not at all); a read records its event before its answer leaves
/// (<see cref="RecordAsync"/>: the caller waits until the event is durable). Reads arriving
/// together are group-committed — one transaction per batch, each caller still waiting for its own
/// event — so a chain written by 32 downloads at once costs a few commits, not 32: here, or by the
/// database itself where it already groups its writes (<see cref="IVaultDatabase.GroupsCommits"/>).
/// </summary>
public sealed class AuditTrail : IAsyncDisposable
{
    private const int MaxBatch = 512;
    private readonly IVaultDatabase _database;
    private readonly IAuditStore _store;
    private readonly TimeProvider _clock;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    private sealed record Pending(NewAuditEvent Event, TaskCompletionSource<AuditEvent> Done);

    public AuditTrail(IVaultDatabase database, IAuditStore store, TimeProvider clock)
    {
        _database = database;
        _store = store;
        _clock = clock;
        _writer = Task.Run(WriteAsync);
    }

    public IAuditStore Store => _store;

    /// <summary>Records <paramref name="e"/> and returns it once it is durable; <see cref="AuditUnavailableException"/> when it cannot be.</summary>
    public Task<AuditEvent> RecordAsync(NewAuditEvent e) => _database.GroupsCommits ? RecordAloneAsync(e) : RecordInGroupAsync(e);

    // The database groups what arrives together (SQLite's writer): straight to it, one hop fewer.
    private async Task<AuditEvent> RecordAloneAsync(NewAuditEvent e)
    {
        try
        {
            return await _database.WriteAsync(scope => AppendAsync(scope, e));
        }
        catch (Exception failure) when (failure is not (OperationCanceledException or AuditUnavailableException))
        {
            throw new AuditUnavailableException(failure.Message, failure);
        }
    }

    private Task<AuditEvent> RecordInGroupAsync(NewAuditEvent e)
    {
        var pending = new Pending(e, new TaskCompletionSource<AuditEvent>(TaskCreationOptions.RunContinuationsAsynchronously));
        return _queue.Writer.TryWrite(pending) ? pending.Done.Task : throw new AuditUnavailableException("the vault is stopping");
    }

    /// <summary>
    /// Makes a change and records it in one transaction: both commit, or neither (and the caller
    /// gets the error, as when the change alone had failed). <paramref name="audited"/> says what
    /// the change's result is recorded as; null records nothing (the change found nothing to do).
    /// </summary>
    public Task<T> ChangeAsync<T>(Func<WriteScope, Task<T>> change, Func<T, NewAuditEvent?> audited)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(audited);
        return _database.WriteAsync(async scope =>
        {
            var result = await change(scope);
            if (audited(result) is { } e)
            {
                await AppendAsync(scope, e);
            }
            return result;
        });
    }

    /// <summary>
    /// Appends <paramref name="e"/> inside the caller's transaction, with the change it records. A
    /// failure is an <see cref="AuditUnavailableException"/>: the caller's transaction rolls back,
    /// and the request is refused as unrecordable, not as a fault of the change.
    /// </summary>
    public async Task<AuditEvent> AppendAsync(WriteScope scope, NewAuditEvent e)
    {
        try
        {
            return (await _store.AppendAsync(scope, [e], _clock.GetUtcNow()))[0];
        }
        catch (Exception failure) when (failure is not (OperationCanceledException or AuditUnavailableException))
        {
            throw new AuditUnavailableException(failure.Message, failure);
        }
    }

    private async Task WriteAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            try
            {
                await CommitAsync(batch);
            }
            catch (Exception) when (batch.Count > 1)
            {
                // One event the store refuses must not take the others down with it: each alone.
                foreach (var one in batch)
                {
                    try
                    {
                        await CommitAsync([one]);
                    }
                    catch (Exception e)
                    {
                        one.Done.TrySetException(new AuditUnavailableException(e.Message, e));
                    }
                }
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(new AuditUnavailableException(e.Message, e));
            }
            batch.Clear();
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        var events = batch.Select(p => p.Event).ToList();
        var linked = await _database.WriteAsync(scope => _store.AppendAsync(scope, events, _clock.GetUtcNow()));
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(linked[i]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}
