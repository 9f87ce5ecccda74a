using System.Data.Common;
using System.Text;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

/// <summary>
/// The audit chains (migration 0008): <c>audit_events</c>, keyed by (account, sequence) so that a
/// sequence can exist once per chain — a second writer that computed the same one fails instead of
/// forking the chain — and <c>audit_heads</c>, each chain's last sequence and hash, locked while a
/// transaction appends.
/// </summary>
public sealed class SqlAuditStore(IVaultDatabase database) : IAuditStore
{
    private static AuditEvent Read(DbDataReader row) => new()
    {
        Sid = row.Text("sid"),
        AccountSid = row.Text("account_sid"),
        Sequence = row.Long("sequence"),
        DateCreated = row.Text("date_created"),
        Action = row.Text("action"),
        ActorType = row.Text("actor_type"),
        ActorSid = row.TextOrNull("actor_sid"),
        ResourceSid = row.TextOrNull("resource_sid"),
        SourceIp = row.TextOrNull("source_ip"),
        RequestId = row.TextOrNull("request_id"),
        Outcome = row.Text("outcome"),
        Details = row.Text("details"),
        PreviousHash = row.Text("previous_hash"),
        Hash = row.Text("hash"),
    };

    private sealed record Head(long Sequence, string Hash);

    public async Task<IReadOnlyList<AuditEvent>> AppendAsync(WriteScope scope, IReadOnlyList<NewAuditEvent> events, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(events);
        var (db, tx) = (scope.Connection, scope.Transaction);
        var linked = new AuditEvent[events.Count];
        // Heads are locked in account order, so two writers never wait on each other in a circle.
        foreach (var chain in events.Select((e, i) => (e, i)).GroupBy(x => x.e.AccountSid).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            await SqlRows.ExecuteAsync(db, "INSERT INTO audit_heads (account_sid, sequence, hash) VALUES (@account, 0, @genesis) ON CONFLICT (account_sid) DO NOTHING",
                new { account = chain.Key, genesis = AuditChain.Genesis }, tx);
            var head = await SqlRows.OneAsync(db, "SELECT sequence, hash FROM audit_heads WHERE account_sid = @account" + database.ForUpdate,
                new { account = chain.Key }, row => new Head(row.Long("sequence"), row.Text("hash")), tx);
            var (sequence, hash) = (head.Sequence, head.Hash);
            foreach (var (e, i) in chain)
            {
                var next = AuditChain.Link(e, Sid.New("AE"), ++sequence, hash, now);
                await SqlRows.ExecuteAsync(db, """
                    INSERT INTO audit_events (account_sid, sequence, sid, date_created, action, actor_type, actor_sid, resource_sid, source_ip, request_id,
                        outcome, details, previous_hash, hash)
                    VALUES (@AccountSid, @Sequence, @Sid, @DateCreated, @Action, @ActorType, @ActorSid, @ResourceSid, @SourceIp, @RequestId,
                        @Outcome, @Details, @PreviousHash, @Hash)
                    """, next, tx);
                linked[i] = next;
                hash = next.Hash;
            }
            await SqlRows.ExecuteAsync(db, "UPDATE audit_heads SET sequence = @sequence, hash = @hash WHERE account_sid = @account",
                new { sequence, hash, account = chain.Key }, tx);
        }
        return linked;
    }

    public async Task<IReadOnlyList<AuditEvent>> PageAsync(AuditFilter filter, PageCursor cursor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var sql = new StringBuilder("SELECT * FROM audit_events WHERE account_sid = @account");
        var parameters = new Dictionary<string, object?> { ["account"] = filter.AccountSid };
        // date_created is one fixed-width UTC format, so its text order is time order.
        void Where(string clause, string name, object? value)
        {
            if (value is not null)
            {
                sql.Append(" AND ").Append(clause);
                parameters[name] = value;
            }
        }
        Where("date_created >= @start", "start", filter.StartDate);
        Where("date_created < @end", "end", filter.EndDate);
        Where("action = @action", "action", filter.Action);
        Where("resource_sid = @resource", "resource", filter.ResourceSid);
        Where("actor_sid = @actor", "actor", filter.ActorSid);
        await using var db = await database.OpenAsync(cancellationToken);
        return await Keyset.PageAsync(db, sql, parameters, cursor, Read, cancellationToken, column: "sequence", descending: !filter.Ascending);
    }

    public async Task<AuditEvent?> FindAsync(string accountSid, string sid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, "SELECT * FROM audit_events WHERE account_sid = @accountSid AND sid = @sid", new { accountSid, sid }, Read,
            cancellationToken: cancellationToken);
    }

    public async Task AddFailuresAsync(WriteScope scope, IReadOnlyList<FailureCount> counts)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(counts);
        foreach (var c in counts)
        {
            await SqlRows.ExecuteAsync(scope.Connection, """
                INSERT INTO auth_failures (window_start, account_sid, credential_sid, address, count) VALUES (@window, @AccountSid, @CredentialSid, @Address, @Count)
                ON CONFLICT (window_start, account_sid, credential_sid, address) DO UPDATE SET count = auth_failures.count + excluded.count
                """, new { window = AuditChain.Date(c.WindowStart), c.AccountSid, c.CredentialSid, c.Address, c.Count }, scope.Transaction);
        }
    }

    public async Task<IReadOnlyList<FailureCount>> TakeFailuresAsync(WriteScope scope, DateTimeOffset before)
    {
        ArgumentNullException.ThrowIfNull(scope);
        // DELETE … RETURNING: of two instances taking at once, the second finds the rows gone.
        return await SqlRows.ListAsync(scope.Connection, "DELETE FROM auth_failures WHERE window_start < @before RETURNING *",
            new { before = AuditChain.Date(before) },
            row => new FailureCount(DateTimeOffset.Parse(row.Text("window_start"), System.Globalization.CultureInfo.InvariantCulture), row.Text("account_sid"),
                row.Text("credential_sid"), row.Text("address"), row.Long("count")), scope.Transaction);
    }
}
