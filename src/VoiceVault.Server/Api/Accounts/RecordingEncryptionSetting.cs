using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Accounts;

/// <summary><c>/2010-04-01/Accounts/{AccountSid}/RecordingEncryption.json</c> (our extension, docs/api.md §6).</summary>
public static class RecordingEncryptionEndpoints
{
    public static void MapRecordingEncryptionEndpoints(this IEndpointRouteBuilder app)
    {
        const string Path = "/2010-04-01/Accounts/{sid}/RecordingEncryption.json";
        app.MapGet(Path, FetchAsync).WithTags("RecordingEncryption");
        app.MapPost(Path, UpdateAsync).WithTags("RecordingEncryption");
    }

    /// <summary>The setting's two fields; either may be left out to keep what is in force.</summary>
    public sealed record SettingForm([FromForm(Name = "Enabled")] string? Enabled, [FromForm(Name = "PublicKeySid")] string? PublicKeySid)
    {
        public bool? IsEnabled => Enabled?.ToLowerInvariant() switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw ApiException.BadParameter($"Enabled must be true or false; got '{Enabled}'", 20001),
        };
    }

    private static async Task<Ok<RecordingEncryptionResource>> FetchAsync(string sid, HttpContext context, AccountDirectory accounts, EncryptionSettings settings)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        return TypedResults.Ok(Json(await settings.EffectiveAsync(account)));
    }

    private static async Task<Ok<RecordingEncryptionResource>> UpdateAsync(string sid, [AsParameters] SettingForm form, HttpContext context, AccountDirectory accounts,
        EncryptionSettings settings, IPublicKeyStore keys)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var current = await settings.EffectiveAsync(account);
        bool enabled = form.IsEnabled ?? current.Enabled;
        string? keySid = form.PublicKeySid ?? current.PublicKeySid;
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
        await settings.SaveAsync(account.Sid, enabled, keySid, context.Actor());
        return TypedResults.Ok(Json(await settings.EffectiveAsync(account)));
    }

    private static RecordingEncryptionResource Json(EffectiveEncryption setting) =>
        new(setting.AccountSid, setting.Enabled, setting.PublicKeySid, setting.InheritedFrom, setting.DateUpdated is { } updated ? Dates.Rfc2822(updated) : null,
            $"/2010-04-01/Accounts/{setting.AccountSid}/RecordingEncryption.json");
}
