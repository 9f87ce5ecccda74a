using VoiceVault.Server.Api;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Accounts;

/// <summary><c>/2010-04-01/Accounts/{AccountSid}/RecordingEncryption.json</c> (our extension, docs/api.md §6).</summary>
public static class RecordingEncryptionEndpoints
{
    public static void MapRecordingEncryptionEndpoints(this IEndpointRouteBuilder app)
    {
        var path = "/2010-04-01/Accounts/{sid}/RecordingEncryption.json";

        app.MapGet(path, async (string sid, HttpContext context, AccountDirectory accounts, EncryptionSettings settings) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            return TypedResults.Ok(Json(await settings.EffectiveAsync(account)));
        }).WithTags("RecordingEncryption");

        app.MapPost(path, async (string sid, HttpContext context, AccountDirectory accounts, EncryptionSettings settings, IPublicKeyStore keys) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var current = await settings.EffectiveAsync(account);
            var form = await context.ReadFormAsync();
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
                if (key is null || !key.UsableBy(account))
                {
                    throw ApiException.BadParameter($"PublicKeySid {keySid} is not a public key of this account or of its parent", 20001);
                }
            }
            if (enabled && keySid is null)
            {
                throw ApiException.BadParameter("Enabled=true needs a PublicKeySid: create one with POST /v1/Credentials/PublicKeys", 20001);
            }
            await settings.SaveAsync(account.Sid, enabled, keySid);
            return TypedResults.Ok(Json(await settings.EffectiveAsync(account)));
        }).WithTags("RecordingEncryption");
    }

    private static RecordingEncryptionResource Json(EffectiveEncryption setting) =>
        new(setting.AccountSid, setting.Enabled, setting.PublicKeySid, setting.InheritedFrom, setting.DateUpdated is { } updated ? Dates.Rfc2822(updated) : null,
            $"/2010-04-01/Accounts/{setting.AccountSid}/RecordingEncryption.json");
}
