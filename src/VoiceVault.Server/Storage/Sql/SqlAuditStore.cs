using System.Data.Common;
using System.Globalization;
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

    private const int RowsPerInsert = 100;

    private const string EventInsert = """
        INSERT INTO audit_events (account_sid, sequence, sid, date_created, action, actor_type, actor_sid, resource_sid, source_ip, request_id,
            outcome, details, previous_hash, hash) VALUES
        """;

    // The chain's head, locked for the rest of the transaction; null when the chain has no event yet.
    private Task<Head?> FindHeadAsync(DbConnection db, DbTransaction tx, string account) =>
        SqlRows.FirstAsync(db, "SELECT sequence, hash FROM audit_heads WHERE account_sid = @account" + database.ForUpdate, new { account },
            row => new Head(row.Long("sequence"), row.Text("hash")), tx);

    // The chain's head, locked; a chain's first event makes it.
    private async Task<Head> LockHeadAsync(DbConnection db, DbTransaction tx, string account)
    {
        if (await FindHeadAsync(db, tx, account) is { } head)
        {
            return head;
        }
        await SqlRows.ExecuteAsync(db, "INSERT INTO audit_heads (account_sid, sequence, hash) VALUES (@account, 0, @genesis) ON CONFLICT (account_sid) DO NOTHING",
            new { account, genesis = AuditChain.Genesis }, tx);
        return (await FindHeadAsync(db, tx, account))!;
    }

    public async Task<IReadOnlyList<AuditEvent>> AppendAsync(WriteScope scope, IReadOnlyList<NewAuditEvent> events, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(events);
        var (db, tx) = (scope.Connection, scope.Transaction);
        var linked = new AuditEvent[events.Count];
        // Heads are locked in account order, so two writers never wait on each other in a circle.
        foreach (var chain in events.Select((e, i) => (e, i)).GroupBy(x => x.e.AccountSid).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var head = await LockHeadAsync(db, tx, chain.Key);
            var (sequence, hash) = (head.Sequence, head.Hash);
            var batch = new List<AuditEvent>();
            foreach (var (e, i) in chain)
            {
                var next = AuditChain.Link(e, Sid.New("AE"), ++sequence, hash, now);
                linked[i] = next;
                batch.Add(next);
                hash = next.Hash;
            }
            // A group commit's events in as few statements as can be, the head's move with the last:
            // one round trip per RowsPerInsert events, not one per event.
            for (int from = 0; from < batch.Count; from += RowsPerInsert)
            {
                var parameters = new Dictionary<string, object?>();
                var sql = new StringBuilder(EventInsert);
                var rows = batch.Skip(from).Take(RowsPerInsert).ToList();
                for (int r = 0; r < rows.Count; r++)
                {
                    var e = rows[r];
                    sql.Append(r == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                        $"(@a{r},@q{r},@s{r},@d{r},@c{r},@t{r},@o{r},@r{r},@i{r},@u{r},@x{r},@j{r},@p{r},@h{r})");
                    parameters[$"a{r}"] = e.AccountSid;
                    parameters[$"q{r}"] = e.Sequence;
                    parameters[$"s{r}"] = e.Sid;
                    parameters[$"d{r}"] = e.DateCreated;
                    parameters[$"c{r}"] = e.Action;
                    parameters[$"t{r}"] = e.ActorType;
                    parameters[$"o{r}"] = e.ActorSid;
                    parameters[$"r{r}"] = e.ResourceSid;
                    parameters[$"i{r}"] = e.SourceIp;
                    parameters[$"u{r}"] = e.RequestId;
                    parameters[$"x{r}"] = e.Outcome;
                    parameters[$"j{r}"] = e.Details;
                    parameters[$"p{r}"] = e.PreviousHash;
                    parameters[$"h{r}"] = e.Hash;
                }
                if (from + RowsPerInsert >= batch.Count)
                {
                    sql.Append("; UPDATE audit_heads SET sequence = @headSequence, hash = @headHash WHERE account_sid = @headAccount");
                    parameters["headSequence"] = sequence;
                    parameters["headHash"] = hash;
                    parameters["headAccount"] = chain.Key;
                }
                await SqlRows.ExecuteAsync(db, sql.ToString(), parameters, tx);
            }
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

    private static StoredSigningKey ReadKey(DbDataReader row) =>
        new(new AuditSigningKey(row.Text("key_id"), row.Text("public_key"), row.Text("date_created"), row.Text("status")), row.Bytes("private_key_sealed"));

    private static AuditCheckpoint ReadCheckpoint(DbDataReader row) =>
        new(row.Text("sid"), row.Text("account_sid"), row.Long("sequence"), row.Text("hash"), row.Text("date_created"), row.Text("key_id"), row.Text("signature"));

    public async Task<IReadOnlyList<StoredSigningKey>> SigningKeysAsync(WriteScope? scope = null, CancellationToken cancellationToken = default)
    {
        const string sql = "SELECT * FROM audit_signing_keys ORDER BY date_created DESC, key_id";
        if (scope is not null)
        {
            return await SqlRows.ListAsync(scope.Connection, sql, null, ReadKey, scope.Transaction, cancellationToken);
        }
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.ListAsync(db, sql, null, ReadKey, cancellationToken: cancellationToken);
    }

    public async Task AddSigningKeyAsync(WriteScope scope, StoredSigningKey key, bool rotate)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(key);
        if (rotate)
        {
            await SqlRows.ExecuteAsync(scope.Connection, "UPDATE audit_signing_keys SET status = 'retired' WHERE status = 'active'", null, scope.Transaction);
        }
        await SqlRows.ExecuteAsync(scope.Connection, """
            INSERT INTO audit_signing_keys (key_id, public_key, private_key_sealed, date_created, status) VALUES (@KeyId, @PublicKey, @sealed, @DateCreated, 'active')
            """, new { key.Key.KeyId, key.Key.PublicKey, @sealed = key.PrivateKeySealed, key.Key.DateCreated }, scope.Transaction);
    }

    public async Task<(long Sequence, string Hash)?> HeadAsync(WriteScope scope, string accountSid)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var head = await FindHeadAsync(scope.Connection, scope.Transaction, accountSid);
        return head is null ? null : (head.Sequence, head.Hash);
    }

    public async Task<AuditCheckpoint?> CheckpointAtAsync(WriteScope scope, string accountSid, long sequence)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return await SqlRows.FirstAsync(scope.Connection, "SELECT * FROM audit_checkpoints WHERE account_sid = @accountSid AND sequence = @sequence",
            new { accountSid, sequence }, ReadCheckpoint, scope.Transaction);
    }

    public async Task AddCheckpointAsync(WriteScope scope, AuditCheckpoint checkpoint, bool witnessed, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(checkpoint);
        await SqlRows.ExecuteAsync(scope.Connection, """
            INSERT INTO audit_checkpoints (sid, account_sid, sequence, hash, date_created, key_id, signature, witness_status, witness_next_at)
            VALUES (@Sid, @AccountSid, @Sequence, @Hash, @DateCreated, @KeyId, @Signature, @status, @next)
            """, new
        {
            checkpoint.Sid, checkpoint.AccountSid, checkpoint.Sequence, checkpoint.Hash, checkpoint.DateCreated, checkpoint.KeyId, checkpoint.Signature,
            status = witnessed ? "pending" : "none", next = witnessed ? AuditChain.Date(now) : null,
        }, scope.Transaction);
    }

    public async Task<IReadOnlyList<AuditCheckpoint>> CheckpointPageAsync(string accountSid, PageCursor cursor, CancellationToken cancellationToken = default)
    {
        var sql = new StringBuilder("SELECT * FROM audit_checkpoints WHERE account_sid = @account");
        await using var db = await database.OpenAsync(cancellationToken);
        return await Keyset.PageAsync(db, sql, new Dictionary<string, object?> { ["account"] = accountSid }, cursor, ReadCheckpoint, cancellationToken,
            column: "sequence", descending: true);
    }

    public async Task<AuditCheckpoint?> FindCheckpointAsync(string accountSid, string sid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, "SELECT * FROM audit_checkpoints WHERE account_sid = @accountSid AND sid = @sid", new { accountSid, sid }, ReadCheckpoint,
            cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ChainsAheadOfCheckpointsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.ListAsync(db, """
            SELECT h.account_sid FROM audit_heads h
            WHERE h.sequence > COALESCE((SELECT MAX(c.sequence) FROM audit_checkpoints c WHERE c.account_sid = h.account_sid), 0)
            ORDER BY h.account_sid
            """, null, row => row.Text("account_sid"), cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyList<WitnessDelivery>> ClaimWitnessAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken = default) =>
        await database.WriteAsync(scope => SqlRows.ListAsync(scope.Connection, $"""
            UPDATE audit_checkpoints SET witness_next_at = @lease
            WHERE sid IN (SELECT sid FROM audit_checkpoints WHERE witness_status = 'pending' AND witness_next_at <= @now
                          ORDER BY witness_next_at, sequence LIMIT @limit{database.SkipLocked})
            RETURNING *
            """, new { now = AuditChain.Date(now), lease = AuditChain.Date(leaseUntil), limit },
            row => new WitnessDelivery(ReadCheckpoint(row), (int)row.Long("witness_attempts")), scope.Transaction, cancellationToken));

    public Task WitnessAnsweredAsync(string sid, int attempts, string? error, DateTimeOffset? next) =>
        database.WriteAsync(scope => SqlRows.ExecuteAsync(scope.Connection, """
            UPDATE audit_checkpoints SET witness_status = @status, witness_attempts = @attempts, witness_error = @error, witness_next_at = @next WHERE sid = @sid
            """, new { sid, attempts, error, status = next is null ? "delivered" : "pending", next = next is { } at ? AuditChain.Date(at) : null }, scope.Transaction));

    public async Task<IReadOnlyList<AuditCheckpoint>> PruneCandidatesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        // Events are appended in time order, so a checkpoint whose event is older than the cutoff has only older ones before it.
        return await SqlRows.ListAsync(db, """
            SELECT c.* FROM audit_checkpoints c JOIN audit_heads h ON h.account_sid = c.account_sid
            WHERE c.sequence > h.anchor_sequence AND c.sequence = (
                SELECT MAX(c2.sequence) FROM audit_checkpoints c2 JOIN audit_events e ON e.account_sid = c2.account_sid AND e.sequence = c2.sequence
                WHERE c2.account_sid = c.account_sid AND e.date_created < @before)
            ORDER BY c.account_sid
            """, new { before = AuditChain.Date(before) }, ReadCheckpoint, cancellationToken: cancellationToken);
    }

    public async Task<long> PruneAsync(WriteScope scope, AuditCheckpoint anchor)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(anchor);
        // The head is locked first, as every append locks it: the prune and the appends take turns.
        await HeadAsync(scope, anchor.AccountSid);
        long deleted = await SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM audit_events WHERE account_sid = @AccountSid AND sequence <= @Sequence",
            new { anchor.AccountSid, anchor.Sequence }, scope.Transaction);
        await SqlRows.ExecuteAsync(scope.Connection, "UPDATE audit_heads SET anchor_sequence = @Sequence WHERE account_sid = @AccountSid AND anchor_sequence < @Sequence",
            new { anchor.AccountSid, anchor.Sequence }, scope.Transaction);
        return deleted;
    }
}
