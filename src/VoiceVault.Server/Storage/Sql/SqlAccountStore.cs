using System.Data.Common;
using Dapper;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

public sealed class SqlAccountStore(IVaultDatabase database) : IAccountStore
{
    private static Account ReadAccount(DbDataReader row) => new(row.Long("seq"), row.Text("sid"), row.TextOrNull("parent_sid"), row.Text("friendly_name"),
        Spelling.ParseAccountStatus(row.Text("status")), row.Bytes("token_sealed"), row.Time("date_created"), row.Time("date_updated"));

    private static ApiKey ReadKey(DbDataReader row) =>
        new(row.Long("seq"), row.Text("sid"), row.Text("account_sid"), row.Text("friendly_name"), row.Time("date_created"), row.Time("date_updated"),
            Spelling.ParseApiKeyRole(row.Text("role")));

    private const string KeyColumns = "seq, sid, account_sid, friendly_name, date_created, date_updated, role";

    public async Task<Account?> FindAsync(string sid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, "SELECT * FROM accounts WHERE sid = @sid", new { sid }, ReadAccount, cancellationToken: cancellationToken);
    }

    public async Task<bool> AnyAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.ScalarAsync<long>(db, "SELECT COUNT(*) FROM accounts", null, cancellationToken: cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<Account>> ListFamilyAsync(string parentSid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.ListAsync(db, "SELECT * FROM accounts WHERE sid = @parentSid OR parent_sid = @parentSid ORDER BY seq", new { parentSid }, ReadAccount,
            cancellationToken: cancellationToken);
    }

    public Task<Account> CreateAsync(WriteScope scope, string sid, string? parentSid, string friendlyName, byte[] tokenSealed, DateTimeOffset now) =>
        SqlRows.OneAsync(scope.Connection, """
            INSERT INTO accounts (sid, parent_sid, friendly_name, status, token_sealed, date_created, date_updated)
            VALUES (@sid, @parentSid, @friendlyName, 'active', @tokenSealed, @now, @now) RETURNING *
            """, new { sid, parentSid, friendlyName, tokenSealed, now }, ReadAccount, scope.Transaction);

    public Task<Account?> UpdateAsync(WriteScope scope, string sid, string friendlyName, AccountStatus status, DateTimeOffset now) =>
        SqlRows.FirstAsync(scope.Connection,
            "UPDATE accounts SET friendly_name = @friendlyName, status = @status, date_updated = @now WHERE sid = @sid RETURNING *",
            new { sid, friendlyName, status = status.Text(), now }, ReadAccount, scope.Transaction);

    public Task<ApiKey> CreateApiKeyAsync(WriteScope scope, string sid, string accountSid, string friendlyName, byte[] secretSealed, ApiKeyRole role, DateTimeOffset now) =>
        SqlRows.OneAsync(scope.Connection, $"""
            INSERT INTO api_keys (sid, account_sid, friendly_name, secret_sealed, date_created, date_updated, role)
            VALUES (@sid, @accountSid, @friendlyName, @secretSealed, @now, @now, @role) RETURNING {KeyColumns}
            """, new { sid, accountSid, friendlyName, secretSealed, now, role = role.Text() }, ReadKey, scope.Transaction);

    public async Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(string accountSid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.ListAsync(db, $"SELECT {KeyColumns} FROM api_keys WHERE account_sid = @accountSid ORDER BY seq", new { accountSid }, ReadKey,
            cancellationToken: cancellationToken);
    }

    public async Task<ApiKey?> FindApiKeyAsync(string accountSid, string sid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, $"SELECT {KeyColumns} FROM api_keys WHERE sid = @sid AND account_sid = @accountSid", new { sid, accountSid }, ReadKey,
            cancellationToken: cancellationToken);
    }

    public async Task<ApiKeySecret?> FindApiKeySecretAsync(string sid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, "SELECT k.sid, k.account_sid, k.secret_sealed, k.role, a.status FROM api_keys k JOIN accounts a ON a.sid = k.account_sid WHERE k.sid = @sid",
            new { sid }, row => new ApiKeySecret(row.Text("sid"), row.Text("account_sid"), row.Bytes("secret_sealed"), Spelling.ParseAccountStatus(row.Text("status")),
                Spelling.ParseApiKeyRole(row.Text("role"))),
            cancellationToken: cancellationToken);
    }

    public async Task<bool> DeleteApiKeyAsync(WriteScope scope, string accountSid, string sid) =>
        await SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM api_keys WHERE sid = @sid AND account_sid = @accountSid",
            new { sid, accountSid }, scope.Transaction) > 0;
}
