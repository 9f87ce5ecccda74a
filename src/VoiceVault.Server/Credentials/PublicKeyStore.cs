using Dapper;
using VoiceVault.Server.Api;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Credentials;

/// <summary>A public-key credential: the customer's RSA key, kept as DER SubjectPublicKeyInfo.</summary>
public sealed record PublicKey(long Seq, string Sid, string AccountSid, string FriendlyName, byte[] Spki, string Fingerprint, string DateCreated, string DateUpdated);

public sealed class PublicKeyStore(IVaultDatabase database, TimeProvider clock)
{
    public async Task<PublicKey> CreateAsync(string accountSid, string friendlyName, byte[] spki, string fingerprint)
    {
        var sid = Sid.New("CR");
        var now = Dates.Stored(clock.GetUtcNow());
        await database.WriteAsync((db, tx) => db.ExecuteAsync(
            "INSERT INTO public_keys (sid, account_sid, friendly_name, spki, fingerprint, date_created, date_updated) VALUES (@sid, @accountSid, @friendlyName, @spki, @fingerprint, @now, @now)",
            new { sid, accountSid, friendlyName, spki, fingerprint, now }, transaction: tx));
        return (await FindAsync(sid))!;
    }

    public async Task<PublicKey?> FindAsync(string sid)
    {
        await using var db = await database.OpenAsync();
        return await db.QuerySingleOrDefaultAsync<PublicKey>("SELECT * FROM public_keys WHERE sid = @sid", new { sid });
    }

    /// <summary>The keys of the given accounts, oldest first.</summary>
    public async Task<IReadOnlyList<PublicKey>> ListAsync(IEnumerable<string> accountSids)
    {
        await using var db = await database.OpenAsync();
        return (await db.QueryAsync<PublicKey>("SELECT * FROM public_keys WHERE account_sid IN @accountSids ORDER BY seq", new { accountSids = accountSids.ToArray() })).AsList();
    }

    public async Task<PublicKey> RenameAsync(PublicKey key, string friendlyName)
    {
        await database.WriteAsync((db, tx) => db.ExecuteAsync("UPDATE public_keys SET friendly_name = @friendlyName, date_updated = @now WHERE sid = @sid",
            new { sid = key.Sid, friendlyName, now = Dates.Stored(clock.GetUtcNow()) }, transaction: tx));
        return (await FindAsync(key.Sid))!;
    }

    public async Task DeleteAsync(string sid)
    {
        await database.WriteAsync((db, tx) => db.ExecuteAsync("DELETE FROM public_keys WHERE sid = @sid", new { sid }, transaction: tx));
    }
}
