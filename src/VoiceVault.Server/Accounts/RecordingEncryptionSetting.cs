using Dapper;
using VoiceVault.Server.Api;
using VoiceVault.Server.Credentials;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Accounts;

/// <summary>An account's recording-encryption setting, its own or inherited from its parent.</summary>
public sealed record EncryptionSetting(string AccountSid, bool Enabled, string? PublicKeySid, string? InheritedFrom, string? DateUpdated);

public sealed class EncryptionSettingStore(IVaultDatabase database, TimeProvider clock)
{
    private sealed record Row(string AccountSid, long Enabled, string? PublicKeySid, string DateUpdated);

    /// <summary>The setting that applies to <paramref name="account"/>: its own, else its parent's, else off.</summary>
    public async Task<EncryptionSetting> EffectiveAsync(Account account)
    {
        await using var db = await database.OpenAsync();
        var own = await db.QuerySingleOrDefaultAsync<Row>("SELECT * FROM encryption_settings WHERE account_sid = @sid", new { sid = account.Sid });
        if (own is not null)
        {
            return new EncryptionSetting(account.Sid, own.Enabled != 0, own.PublicKeySid, null, own.DateUpdated);
        }
        if (account.ParentSid is not null)
        {
            var parent = await db.QuerySingleOrDefaultAsync<Row>("SELECT * FROM encryption_settings WHERE account_sid = @sid", new { sid = account.ParentSid });
            if (parent is not null)
            {
                return new EncryptionSetting(account.Sid, parent.Enabled != 0, parent.PublicKeySid, account.ParentSid, parent.DateUpdated);
            }
        }
        return new EncryptionSetting(account.Sid, false, null, null, null);
    }

    public async Task SaveAsync(string accountSid, bool enabled, string? publicKeySid)
    {
        await database.WriteAsync((db, tx) => db.ExecuteAsync("""
            INSERT INTO encryption_settings (account_sid, enabled, public_key_sid, date_updated) VALUES (@accountSid, @enabled, @publicKeySid, @now)
            ON CONFLICT (account_sid) DO UPDATE SET enabled = excluded.enabled, public_key_sid = excluded.public_key_sid, date_updated = excluded.date_updated
            """, new { accountSid, enabled = enabled ? 1 : 0, publicKeySid, now = Dates.Stored(clock.GetUtcNow()) }, transaction: tx));
    }
}

/// <summary><c>/2010-04-01/Accounts/{AccountSid}/RecordingEncryption.json</c> (our extension, SPEC §6).</summary>
public static class RecordingEncryptionEndpoints
{
    public static void MapRecordingEncryptionEndpoints(this IEndpointRouteBuilder app)
    {
        var path = "/2010-04-01/Accounts/{sid}/RecordingEncryption.json";

        app.MapGet(path, async (string sid, HttpContext context, AccountStore accounts, EncryptionSettingStore settings) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            return Results.Json(Json(await settings.EffectiveAsync(account)));
        }).WithTags("RecordingEncryption");

        app.MapPost(path, async (string sid, HttpContext context, AccountStore accounts, EncryptionSettingStore settings, PublicKeyStore keys) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var current = await settings.EffectiveAsync(account);
            var form = await context.Request.ReadFormAsync();
            bool enabled = current.Enabled;
            if (form.TryGetValue("Enabled", out var e))
            {
                enabled = e.ToString().ToLowerInvariant() switch
                {
                    "true" => true,
                    "false" => false,
                    _ => throw ApiException.BadParameter($"Enabled must be true or false; got '{e}'", 20001),
                };
            }
            string? keySid = form.TryGetValue("PublicKeySid", out var k) ? k.ToString() : current.PublicKeySid;
            if (string.IsNullOrEmpty(keySid))
            {
                keySid = null;
            }
            if (keySid is not null)
            {
                var key = Sid.Is(keySid, "CR") ? await keys.FindAsync(keySid) : null;
                if (key is null || (key.AccountSid != account.Sid && key.AccountSid != account.ParentSid))
                {
                    throw ApiException.BadParameter($"PublicKeySid {keySid} is not a public key of this account or of its parent", 20001);
                }
            }
            if (enabled && keySid is null)
            {
                throw ApiException.BadParameter("Enabled=true needs a PublicKeySid: create one with POST /v1/Credentials/PublicKeys", 20001);
            }
            await settings.SaveAsync(account.Sid, enabled, keySid);
            return Results.Json(Json(await settings.EffectiveAsync(account)));
        }).WithTags("RecordingEncryption");
    }

    private static Dictionary<string, object?> Json(EncryptionSetting setting) => new()
    {
        ["account_sid"] = setting.AccountSid,
        ["enabled"] = setting.Enabled,
        ["public_key_sid"] = setting.PublicKeySid,
        ["inherited_from"] = setting.InheritedFrom,
        ["date_updated"] = setting.DateUpdated is null ? null : Dates.Rfc2822(Dates.Parse(setting.DateUpdated)),
        ["uri"] = $"/2010-04-01/Accounts/{setting.AccountSid}/RecordingEncryption.json",
    };
}
