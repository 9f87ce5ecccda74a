using System.Data.Common;
using Dapper;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

public sealed class SqlPublicKeyStore(IVaultDatabase database) : IPublicKeyStore
{
    private static PublicKey ReadKey(DbDataReader row) => new(row.Long("seq"), row.Text("sid"), row.Text("account_sid"), row.Text("friendly_name"),
        row.Bytes("spki"), row.Text("fingerprint"), row.Time("date_created"), row.Time("date_updated"));

    private static EncryptionSetting ReadSetting(DbDataReader row) =>
        new(row.Text("account_sid"), row.Bool("enabled"), row.TextOrNull("public_key_sid"), row.Time("date_updated"));

    public Task<PublicKey> CreateAsync(WriteScope scope, string sid, string accountSid, string friendlyName, byte[] spki, string fingerprint, DateTimeOffset now) =>
        SqlRows.OneAsync(scope.Connection, """
            INSERT INTO public_keys (sid, account_sid, friendly_name, spki, fingerprint, date_created, date_updated)
            VALUES (@sid, @accountSid, @friendlyName, @spki, @fingerprint, @now, @now) RETURNING *
            """, new { sid, accountSid, friendlyName, spki, fingerprint, now }, ReadKey, scope.Transaction);

    public async Task<PublicKey?> FindAsync(string sid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, "SELECT * FROM public_keys WHERE sid = @sid", new { sid }, ReadKey, cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyList<PublicKey>> ListAsync(IReadOnlyCollection<string> accountSids, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        var parameters = new Dictionary<string, object?>();
        return await SqlRows.ListAsync(db, $"SELECT * FROM public_keys WHERE account_sid IN {SqlRows.In(parameters, "account", accountSids)} ORDER BY seq",
            parameters, ReadKey, cancellationToken: cancellationToken);
    }

    public Task<PublicKey?> RenameAsync(string sid, string friendlyName, DateTimeOffset now) =>
        database.WriteAsync(scope => SqlRows.FirstAsync(scope.Connection,
            "UPDATE public_keys SET friendly_name = @friendlyName, date_updated = @now WHERE sid = @sid RETURNING *",
            new { sid, friendlyName, now }, ReadKey, scope.Transaction));

    public async Task<bool> DeleteAsync(WriteScope scope, string sid) =>
        await SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM public_keys WHERE sid = @sid", new { sid }, scope.Transaction) > 0;

    public async Task<IReadOnlyList<EncryptionSetting>> FindSettingsAsync(IReadOnlyCollection<string> accountSids, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        var parameters = new Dictionary<string, object?>();
        return await SqlRows.ListAsync(db, $"SELECT * FROM encryption_settings WHERE account_sid IN {SqlRows.In(parameters, "account", accountSids)}",
            parameters, ReadSetting, cancellationToken: cancellationToken);
    }

    public async Task<(IReadOnlyList<EncryptionSetting> Settings, IReadOnlyList<PublicKey> Keys)> FindEncryptionAsync(IReadOnlyCollection<string> accountSids,
        CancellationToken cancellationToken = default)
    {
        var parameters = new Dictionary<string, object?>();
        var accounts = SqlRows.In(parameters, "account", accountSids);
        await using var db = await database.OpenAsync(cancellationToken);
        var (settings, keys) = await SqlRows.TwoListsAsync(db,
            $"SELECT * FROM encryption_settings WHERE account_sid IN {accounts}; SELECT * FROM public_keys WHERE account_sid IN {accounts} ORDER BY seq",
            parameters, ReadSetting, ReadKey, cancellationToken);
        return (settings, keys);
    }

    public Task SaveSettingAsync(WriteScope scope, EncryptionSetting setting) =>
        SqlRows.ExecuteAsync(scope.Connection, """
            INSERT INTO encryption_settings (account_sid, enabled, public_key_sid, date_updated) VALUES (@AccountSid, @Enabled, @PublicKeySid, @DateUpdated)
            ON CONFLICT (account_sid) DO UPDATE SET enabled = excluded.enabled, public_key_sid = excluded.public_key_sid, date_updated = excluded.date_updated
            """, setting, scope.Transaction);
}
