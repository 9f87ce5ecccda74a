namespace VoiceVault.Server.Core;

/// <summary>A public-key credential: the customer's RSA key, kept as DER SubjectPublicKeyInfo.</summary>
public sealed record PublicKey(long Seq, string Sid, string AccountSid, string FriendlyName, byte[] Spki, string Fingerprint, DateTimeOffset DateCreated, DateTimeOffset DateUpdated)
{
    /// <summary>An account may encrypt (and re-wrap) to its own keys and to its parent's (docs/api.md §6, §7a).</summary>
    public bool UsableBy(Account account) => AccountSid == account.Sid || AccountSid == account.ParentSid;
}

/// <summary>An account's own recording-encryption setting, as stored.</summary>
public sealed record EncryptionSetting(string AccountSid, bool Enabled, string? PublicKeySid, DateTimeOffset DateUpdated);

/// <summary>Public-key credentials and the recording-encryption settings that name them.</summary>
public interface IPublicKeyStore
{
    Task<PublicKey> CreateAsync(WriteScope scope, string sid, string accountSid, string friendlyName, byte[] spki, string fingerprint, DateTimeOffset now);

    Task<PublicKey?> FindAsync(string sid, CancellationToken cancellationToken = default);

    /// <summary>The keys of the given accounts, oldest first.</summary>
    Task<IReadOnlyList<PublicKey>> ListAsync(IReadOnlyCollection<string> accountSids, CancellationToken cancellationToken = default);

    Task<PublicKey?> RenameAsync(string sid, string friendlyName, DateTimeOffset now);

    Task<bool> DeleteAsync(WriteScope scope, string sid);

    /// <summary>The settings stored for these accounts (an account without one is missing from the answer).</summary>
    Task<IReadOnlyList<EncryptionSetting>> FindSettingsAsync(IReadOnlyCollection<string> accountSids, CancellationToken cancellationToken = default);

    Task SaveSettingAsync(WriteScope scope, EncryptionSetting setting);

    /// <summary>What choosing a recording's key needs, in one round trip: the settings stored for these accounts and their keys, oldest first.</summary>
    Task<(IReadOnlyList<EncryptionSetting> Settings, IReadOnlyList<PublicKey> Keys)> FindEncryptionAsync(IReadOnlyCollection<string> accountSids, CancellationToken cancellationToken = default);
}
