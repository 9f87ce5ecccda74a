namespace VoiceVault.Server.Core;

/// <summary>A status callback in the outbox.</summary>
public sealed record OutboxMessage(long Seq, string AccountSid, string RecordingSid, string Url, string Method, string Payload, int Attempts,
    DateTimeOffset NextAttemptAt, DateTimeOffset DateCreated)
{
    /// <summary>When this instance committed the row (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), for rows it sends itself.</summary>
    public long CommittedAt { get; init; }
}

public sealed record NewOutboxMessage(string AccountSid, string RecordingSid, string Url, string Method, string Payload);

/// <summary>
/// Status callbacks waiting to be delivered. A message is claimed by moving its next attempt past a
/// lease, so several instances share one outbox; a claimer that dies simply lets the lease run out.
/// </summary>
public interface IOutboxStore
{
    /// <summary>Adds a message, born leased to the caller until <paramref name="leaseUntil"/>.</summary>
    Task<OutboxMessage> AddAsync(WriteScope scope, NewOutboxMessage message, DateTimeOffset leaseUntil, DateTimeOffset now);

    /// <summary>Claims up to <paramref name="limit"/> undelivered messages due at <paramref name="now"/>, leasing them until <paramref name="leaseUntil"/>; oldest first.</summary>
    Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken = default);

    Task MarkDeliveredAsync(IReadOnlyCollection<long> seqs, DateTimeOffset now);

    /// <summary>Records a failed attempt; the message is due again at <paramref name="next"/>.</summary>
    Task RetryLaterAsync(long seq, int attempts, string error, DateTimeOffset next);

    /// <summary>Hands undelivered messages back: due at once, not at the end of their lease.</summary>
    Task ReleaseAsync(IReadOnlyCollection<long> seqs, DateTimeOffset now);

    Task<OutboxMessage?> FindAsync(long seq, CancellationToken cancellationToken = default);
}
