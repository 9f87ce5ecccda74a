using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using VoiceVault.Server.Api;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Accounts;

/// <summary>Accounts, subaccounts and API keys, and the checks of their credentials.</summary>
public sealed class AccountStore(IVaultDatabase database, MasterKey masterKey, TimeProvider clock)
{
    // Verified credentials, by SHA-256 of "sid:secret": a Basic-auth check per request must not
    // cost a database round trip and an AES-GCM open. A change made here clears them at once; one
    // made by another instance sharing the database is seen here within VerifiedFor.
    private readonly ConcurrentDictionary<string, (Caller Caller, long Until)> _verified = new(StringComparer.Ordinal);

    /// <summary>How long a verified credential is trusted without looking again (tests shorten it).</summary>
    internal TimeSpan VerifiedFor { get; set; } = TimeSpan.FromSeconds(30);

    public async Task<Account?> FindAsync(string sid)
    {
        await using var db = await database.OpenAsync();
        return await db.QuerySingleOrDefaultAsync<Account>("SELECT * FROM accounts WHERE sid = @sid", new { sid });
    }

    public async Task<bool> AnyAsync()
    {
        await using var db = await database.OpenAsync();
        return await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM accounts") > 0;
    }

    /// <summary>Creates an account (a subaccount when <paramref name="parentSid"/> is given) and returns it with its token.</summary>
    public async Task<(Account Account, string Token)> CreateAsync(string? parentSid, string friendlyName, string? sid = null, string? token = null)
    {
        sid ??= Api.Sid.New("AC");
        token ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var now = Dates.Stored(clock.GetUtcNow());
        await database.WriteAsync((db, tx) => db.ExecuteAsync(
            "INSERT INTO accounts (sid, parent_sid, friendly_name, status, token_sealed, date_created, date_updated) VALUES (@sid, @parentSid, @friendlyName, 'active', @sealed, @now, @now)",
            new { sid, parentSid, friendlyName, @sealed = masterKey.Seal(Encoding.UTF8.GetBytes(token), sid), now }, transaction: tx));
        return ((await FindAsync(sid))!, token);
    }

    public async Task<Account> UpdateAsync(Account account, string? friendlyName, string? status)
    {
        await database.WriteAsync((db, tx) => db.ExecuteAsync(
            "UPDATE accounts SET friendly_name = @friendlyName, status = @status, date_updated = @now WHERE sid = @sid",
            new { sid = account.Sid, friendlyName = friendlyName ?? account.FriendlyName, status = status ?? account.Status, now = Dates.Stored(clock.GetUtcNow()) }, transaction: tx));
        if (status is not null && status != "active")
        {
            _verified.Clear();
        }
        return (await FindAsync(account.Sid))!;
    }

    public string TokenOf(Account account) => Encoding.UTF8.GetString(masterKey.Open(account.TokenSealed, account.Sid));

    /// <summary>The subaccounts of <paramref name="parentSid"/> and the account itself, in creation order.</summary>
    public async Task<IReadOnlyList<Account>> ListFamilyAsync(string parentSid)
    {
        await using var db = await database.OpenAsync();
        return (await db.QueryAsync<Account>("SELECT * FROM accounts WHERE sid = @parentSid OR parent_sid = @parentSid ORDER BY seq", new { parentSid })).AsList();
    }

    public async Task<(string Sid, string Secret, string FriendlyName, string DateCreated)> CreateApiKeyAsync(string accountSid, string friendlyName)
    {
        var sid = Api.Sid.New("SK");
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', 'x').Replace('/', 'y');
        var now = Dates.Stored(clock.GetUtcNow());
        await database.WriteAsync((db, tx) => db.ExecuteAsync(
            "INSERT INTO api_keys (sid, account_sid, friendly_name, secret_sealed, date_created, date_updated) VALUES (@sid, @accountSid, @friendlyName, @sealed, @now, @now)",
            new { sid, accountSid, friendlyName, @sealed = masterKey.Seal(Encoding.UTF8.GetBytes(secret), sid), now }, transaction: tx));
        return (sid, secret, friendlyName, now);
    }

    public async Task<IReadOnlyList<ApiKeyRow>> ListApiKeysAsync(string accountSid)
    {
        await using var db = await database.OpenAsync();
        return (await db.QueryAsync<ApiKeyRow>("SELECT seq, sid, account_sid, friendly_name, date_created, date_updated FROM api_keys WHERE account_sid = @accountSid ORDER BY seq", new { accountSid })).AsList();
    }

    /// <summary>One API key of the account; null when the account has no key by that SID.</summary>
    public async Task<ApiKeyRow?> FindApiKeyAsync(string accountSid, string sid)
    {
        await using var db = await database.OpenAsync();
        return await db.QuerySingleOrDefaultAsync<ApiKeyRow>("SELECT seq, sid, account_sid, friendly_name, date_created, date_updated FROM api_keys WHERE sid = @sid AND account_sid = @accountSid", new { sid, accountSid });
    }

    public async Task<bool> DeleteApiKeyAsync(string accountSid, string sid)
    {
        bool deleted = await database.WriteAsync((db, tx) => db.ExecuteAsync("DELETE FROM api_keys WHERE sid = @sid AND account_sid = @accountSid", new { sid, accountSid }, transaction: tx)) > 0;
        _verified.Clear();
        return deleted;
    }

    /// <summary>Checks Basic-auth credentials: an account SID and its token, or an API key SID and its secret.</summary>
    public async Task<Caller?> AuthenticateAsync(string user, string secret)
    {
        var cacheKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(user + ":" + secret)));
        if (_verified.TryGetValue(cacheKey, out var known) && known.Until > Environment.TickCount64)
        {
            return known.Caller;
        }
        Caller? caller = null;
        await using var db = await database.OpenAsync();
        if (Api.Sid.Is(user, "AC"))
        {
            var account = await db.QuerySingleOrDefaultAsync<Account>("SELECT * FROM accounts WHERE sid = @user", new { user });
            if (account is { IsActive: true } && Matches(masterKey.Open(account.TokenSealed, account.Sid), secret))
            {
                caller = new Caller(account.Sid, null);
            }
        }
        else if (Api.Sid.Is(user, "SK"))
        {
            var key = await db.QuerySingleOrDefaultAsync<(string AccountSid, byte[] SecretSealed, string Status)>(
                "SELECT k.account_sid, k.secret_sealed, a.status FROM api_keys k JOIN accounts a ON a.sid = k.account_sid WHERE k.sid = @user", new { user });
            if (key.AccountSid is not null && key.Status == "active" && Matches(masterKey.Open(key.SecretSealed, user), secret))
            {
                caller = new Caller(key.AccountSid, user);
            }
        }
        if (caller is not null)
        {
            _verified[cacheKey] = (caller, Environment.TickCount64 + (long)VerifiedFor.TotalMilliseconds);
        }
        return caller;
    }

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

public sealed record ApiKeyRow(long Seq, string Sid, string AccountSid, string FriendlyName, string DateCreated, string DateUpdated);
