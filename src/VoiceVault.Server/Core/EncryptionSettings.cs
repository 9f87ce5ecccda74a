
namespace VoiceVault.Server.Core;

/// <summary>The recording-encryption setting that applies to an account: its own, else its parent's, else off.</summary>
public sealed record EffectiveEncryption(string AccountSid, bool Enabled, string? PublicKeySid, string? InheritedFrom, DateTimeOffset? DateUpdated);

/// <summary>Recording-encryption settings and the inheritance rule (docs/api.md §6).</summary>
public sealed class EncryptionSettings(IPublicKeyStore keys, AuditTrail audit, TimeProvider clock)
{
    public async Task<EffectiveEncryption> EffectiveAsync(Account account, CancellationToken cancellationToken = default) =>
        Effective(account.Sid, account.ParentSid, await keys.FindSettingsAsync(Family(account.Sid, account.ParentSid), cancellationToken));

    /// <summary>An account and its parent, if it has one: whose settings and keys apply to it.</summary>
    public static string[] Family(string accountSid, string? parentSid) => parentSid is null ? [accountSid] : [accountSid, parentSid];

    /// <summary>The rule itself, over the settings stored for the account and its parent.</summary>
    public static EffectiveEncryption Effective(string accountSid, string? parentSid, IReadOnlyList<EncryptionSetting> stored)
    {
        if (stored.FirstOrDefault(s => s.AccountSid == accountSid) is { } own)
        {
            return new EffectiveEncryption(accountSid, own.Enabled, own.PublicKeySid, null, own.DateUpdated);
        }
        if (parentSid is not null && stored.FirstOrDefault(s => s.AccountSid == parentSid) is { } parent)
        {
            return new EffectiveEncryption(accountSid, parent.Enabled, parent.PublicKeySid, parent.AccountSid, parent.DateUpdated);
        }
        return new EffectiveEncryption(accountSid, false, null, null, null);
    }

    /// <summary>Saves the setting and records it, in one transaction.</summary>
    public Task SaveAsync(string accountSid, bool enabled, string? publicKeySid, Actor actor)
    {
        var setting = new EncryptionSetting(accountSid, enabled, publicKeySid, clock.GetUtcNow());
        return audit.ChangeAsync(async scope =>
        {
            await keys.SaveSettingAsync(scope, setting);
            return setting;
        }, saved => Audited.EncryptionSettingUpdated(saved, actor));
    }
}
