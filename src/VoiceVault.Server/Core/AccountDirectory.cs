using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Server.Core;

/// <summary>Who is calling: the account whose credentials (its token, or one of its API keys) were given.</summary>
public sealed record Caller(string AccountSid, string? ApiKeySid, bool Auditor = false);

/// <summary>
/// Accounts and their secrets: tokens and API key secrets are made here, sealed under the master
/// key before they are stored, and checked here (in constant time).
/// </summary>
public sealed class AccountDirectory
{
    private readonly IAccountStore _accounts;
    private readonly MasterKey _masterKey;
    private readonly TimeProvider _clock;
    private readonly IClusterSignals _signals;
    private readonly AuditTrail _audit;

    public AccountDirectory(IAccountStore accounts, MasterKey masterKey, TimeProvider clock, IClusterSignals signals, AuditTrail audit)
    {
        _accounts = accounts;
        _audit = audit;
        _masterKey = masterKey;
        _clock = clock;
        _signals = signals;
        // Another instance revoked something: what this one verified must be checked again.
        _signals.Subscribe(signal =>
        {
            if (signal is IClusterSignals.Credentials or IClusterSignals.Reset)
            {
                _verified.Clear();
            }
        });
    }

    // Verified credentials, by SHA-256 of "sid:secret": a Basic-auth check per request must not
    // cost a database round trip and an AES-GCM open. A change made here clears them at once; one
    // made by another instance sharing the database is seen here within VerifiedFor.
    private readonly ConcurrentDictionary<string, (Caller Caller, long Until)> _verified = new(StringComparer.Ordinal);

    /// <summary>How long a verified credential is trusted without looking again (tests shorten it).</summary>
    internal TimeSpan VerifiedFor { get; set; } = TimeSpan.FromSeconds(30);

    public IAccountStore Store => _accounts;

    // An account's parent never changes: known once, it is never looked up again.
    private readonly ConcurrentDictionary<string, string?> _parents = new(StringComparer.Ordinal);

    public Task<Account?> FindAsync(string sid, CancellationToken cancellationToken = default) => _accounts.FindAsync(sid, cancellationToken);

    /// <summary>
    /// The tenant rule, in one place for the API, the console and every adapter: a caller acts on its
    /// own account and its subaccounts, never on its parent's or a sibling's. Null when it may not, or
    /// when there is no such account — the caller cannot tell the two apart.
    /// </summary>
    public async Task<Account?> InScopeAsync(string callerAccountSid, string accountSid)
    {
        var account = Sid.Is(accountSid, "AC") ? await FindAsync(accountSid) : null;
        return account is not null && (account.Sid == callerAccountSid || account.ParentSid == callerAccountSid) ? account : null;
    }

    /// <summary>A public key the caller may see (one of an account in its scope), or null as if it did not exist.</summary>
    public async Task<PublicKey?> KeyInScopeAsync(IPublicKeyStore keys, string callerAccountSid, string keySid)
    {
        var key = Sid.Is(keySid, "CR") ? await keys.FindAsync(keySid) : null;
        return key is not null && await InScopeAsync(callerAccountSid, key.AccountSid) is not null ? key : null;
    }

    /// <summary>The parent of an authenticated caller's account (null for a main account), without a database round trip after the first.</summary>
    public async Task<string?> ParentOfAsync(string sid)
    {
        if (_parents.TryGetValue(sid, out var parent))
        {
            return parent;
        }
        var account = await _accounts.FindAsync(sid) ?? throw new InvalidOperationException($"Account {sid} does not exist.");
        return _parents[sid] = account.ParentSid;
    }

    /// <summary>Creates an account (a subaccount when <paramref name="parentSid"/> is given) and returns it with its token.</summary>
    public async Task<(Account Account, string Token)> CreateAsync(string? parentSid, string friendlyName, Actor actor, string? sid = null, string? token = null)
    {
        var created = sid ?? Sid.New("AC");
        token ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var sealedToken = _masterKey.Seal(Encoding.UTF8.GetBytes(token), created);
        var account = await _audit.ChangeAsync(scope => _accounts.CreateAsync(scope, created, parentSid, friendlyName, sealedToken, _clock.GetUtcNow()),
            made => Audited.AccountCreated(made, actor));
        return (account, token);
    }

    public async Task<Account> UpdateAsync(Account account, string? friendlyName, AccountStatus? status, Actor actor)
    {
        var updated = await _audit.ChangeAsync(scope => _accounts.UpdateAsync(scope, account.Sid, friendlyName ?? account.FriendlyName, status ?? account.Status, _clock.GetUtcNow()),
            changed => changed is null ? null : Audited.AccountUpdated(changed, actor))
            ?? throw new InvalidOperationException($"Account {account.Sid} vanished.");
        if (!updated.IsActive)
        {
            _verified.Clear();
            await _signals.SendAsync(IClusterSignals.Credentials);
        }
        return updated;
    }

    public string TokenOf(Account account) => Encoding.UTF8.GetString(_masterKey.Open(account.TokenSealed, account.Sid));

    /// <summary>A new API key; its secret is returned this once and kept only sealed.</summary>
    public async Task<(ApiKey Key, string Secret)> CreateApiKeyAsync(string accountSid, string friendlyName, ApiKeyRole role, Actor actor)
    {
        var sid = Sid.New("SK");
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', 'x').Replace('/', 'y');
        var sealedSecret = _masterKey.Seal(Encoding.UTF8.GetBytes(secret), sid);
        var key = await _audit.ChangeAsync(scope => _accounts.CreateApiKeyAsync(scope, sid, accountSid, friendlyName, sealedSecret, role, _clock.GetUtcNow()),
            made => Audited.ApiKeyCreated(made, actor));
        return (key, secret);
    }

    public async Task<bool> DeleteApiKeyAsync(string accountSid, string sid, Actor actor)
    {
        bool deleted = await _audit.ChangeAsync(scope => _accounts.DeleteApiKeyAsync(scope, accountSid, sid),
            gone => gone ? Audited.ApiKeyDeleted(accountSid, sid, actor) : null);
        _verified.Clear();
        await _signals.SendAsync(IClusterSignals.Credentials);
        return deleted;
    }

    /// <summary>Checks credentials: an account SID and its token, or an API key SID and its secret.</summary>
    public async Task<Caller?> AuthenticateAsync(string user, string secret)
    {
        if (Verified(user, secret) is { } known)
        {
            return known;
        }
        var cacheKey = CacheKey(user, secret);
        Caller? caller = null;
        if (Sid.Is(user, "AC"))
        {
            var account = await _accounts.FindAsync(user);
            if (account is { IsActive: true } && Matches(_masterKey.Open(account.TokenSealed, account.Sid), secret))
            {
                caller = new Caller(account.Sid, null);
            }
        }
        else if (Sid.Is(user, "SK"))
        {
            var key = await _accounts.FindApiKeySecretAsync(user);
            if (key is { AccountStatus: AccountStatus.Active } && Matches(_masterKey.Open(key.SecretSealed, user), secret))
            {
                caller = new Caller(key.AccountSid, user, key.Role == ApiKeyRole.Auditor);
            }
        }
        if (caller is not null)
        {
            _verified[cacheKey] = (caller, Environment.TickCount64 + (long)VerifiedFor.TotalMilliseconds);
        }
        return caller;
    }

    /// <summary>The caller, when these very credentials were verified here within <see cref="VerifiedFor"/>; null otherwise (they may still be right).</summary>
    public Caller? Verified(string user, string secret) =>
        _verified.TryGetValue(CacheKey(user, secret), out var known) && known.Until > Environment.TickCount64 ? known.Caller : null;

    private static string CacheKey(string user, string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(user + ":" + secret)));

    private static bool Matches(byte[] expected, string given)
    {
        try
        {
            return CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(given));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }
}
