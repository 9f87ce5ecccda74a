namespace VoiceVault.Server.Core;

public enum AccountStatus
{
    Active,
    Suspended,
    Closed,
}

/// <summary>An account; its auth token stays sealed under the master key.</summary>
public sealed record Account(long Seq, string Sid, string? ParentSid, string FriendlyName, AccountStatus Status, byte[] TokenSealed, DateTimeOffset DateCreated, DateTimeOffset DateUpdated)
{
    public bool IsActive => Status == AccountStatus.Active;
}

/// <summary>An API key of an account, without its secret.</summary>
public sealed record ApiKey(long Seq, string Sid, string AccountSid, string FriendlyName, DateTimeOffset DateCreated, DateTimeOffset DateUpdated, ApiKeyRole Role);

/// <summary>What an API key may do: everything its account may (<c>full</c>), or read the audit trail and metadata only (<c>auditor</c>).</summary>
public enum ApiKeyRole
{
    Full,
    Auditor,
}

/// <summary>What checking an API key's secret needs: its sealed secret and the status of the account it belongs to.</summary>
public sealed record ApiKeySecret(string Sid, string AccountSid, byte[] SecretSealed, AccountStatus AccountStatus, ApiKeyRole Role);

/// <summary>Accounts, subaccounts and API keys.</summary>
public interface IAccountStore
{
    Task<Account?> FindAsync(string sid, CancellationToken cancellationToken = default);

    Task<bool> AnyAsync(CancellationToken cancellationToken = default);

    /// <summary>The account <paramref name="parentSid"/> and its subaccounts, in creation order.</summary>
    Task<IReadOnlyList<Account>> ListFamilyAsync(string parentSid, CancellationToken cancellationToken = default);

    Task<Account> CreateAsync(WriteScope scope, string sid, string? parentSid, string friendlyName, byte[] tokenSealed, DateTimeOffset now);

    /// <summary>Sets the name and status; null when the account does not exist.</summary>
    Task<Account?> UpdateAsync(WriteScope scope, string sid, string friendlyName, AccountStatus status, DateTimeOffset now);

    Task<ApiKey> CreateApiKeyAsync(WriteScope scope, string sid, string accountSid, string friendlyName, byte[] secretSealed, ApiKeyRole role, DateTimeOffset now);

    Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(string accountSid, CancellationToken cancellationToken = default);

    /// <summary>One API key of the account; null when the account has no key by that SID.</summary>
    Task<ApiKey?> FindApiKeyAsync(string accountSid, string sid, CancellationToken cancellationToken = default);

    Task<ApiKeySecret?> FindApiKeySecretAsync(string sid, CancellationToken cancellationToken = default);

    Task<bool> DeleteApiKeyAsync(WriteScope scope, string accountSid, string sid);
}
