using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Core;

/// <summary>The recording-encryption setting that applies to an account: its own, else its parent's, else off.</summary>
public sealed record EffectiveEncryption(string AccountSid, bool Enabled, string? PublicKeySid, string? InheritedFrom, DateTimeOffset? DateUpdated);

/// <summary>Recording-encryption settings and the inheritance rule (SPEC §6).</summary>
public sealed class EncryptionSettings(IPublicKeyStore keys, TimeProvider clock)
{
    public async Task<EffectiveEncryption> EffectiveAsync(Account account, CancellationToken cancellationToken = default)
    {
        var stored = await keys.FindSettingsAsync(account.ParentSid is null ? [account.Sid] : [account.Sid, account.ParentSid], cancellationToken);
        if (stored.FirstOrDefault(s => s.AccountSid == account.Sid) is { } own)
        {
            return new EffectiveEncryption(account.Sid, own.Enabled, own.PublicKeySid, null, own.DateUpdated);
        }
        if (stored.FirstOrDefault(s => s.AccountSid == account.ParentSid) is { } parent)
        {
            return new EffectiveEncryption(account.Sid, parent.Enabled, parent.PublicKeySid, parent.AccountSid, parent.DateUpdated);
        }
        return new EffectiveEncryption(account.Sid, false, null, null, null);
    }

    public Task SaveAsync(string accountSid, bool enabled, string? publicKeySid) =>
        keys.SaveSettingAsync(new EncryptionSetting(accountSid, enabled, publicKeySid, clock.GetUtcNow()));
}
