using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api;

/// <summary>
/// Guessing credentials is slowed to a crawl (docs/api.md §13): each failed authentication takes a token
/// from its client address's bucket and from its account's (or API key's), and a caller whose
/// bucket is empty is answered 429 (code 20429, Retry-After) before its credentials are even
/// looked at. The address bucket is small, so one guesser stops long before the account's bucket
/// runs dry and the right password from elsewhere keeps working; the account bucket stops a guess
/// spread over many addresses. Token buckets from System.Threading.RateLimiting (what ASP.NET
/// Core's rate limiter is made of), per instance; IPv6 clients are counted by their /64.
/// </summary>
public sealed class AuthenticationThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _byAddress;
    private readonly PartitionedRateLimiter<string> _byAccount;
    private readonly TimeSpan _addressRefill;
    private readonly TimeSpan _accountRefill;
    // (account, address) pairs that signed in correctly lately: an account's bucket, emptied by
    // guesses from elsewhere, does not lock its owner out where the owner already works from.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _known = new(StringComparer.Ordinal);
    private static readonly long KnownFor = (long)TimeSpan.FromHours(24).TotalMilliseconds;
    private const int MaxKnown = 100_000;

    public AuthenticationThrottle(VaultOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = options.Limits;
        (_byAddress, _addressRefill) = Buckets(limits.FailedAuthenticationsPerAddress, limits.FailedAuthenticationsPerAddressPerMinute);
        (_byAccount, _accountRefill) = Buckets(limits.FailedAuthenticationsPerAccount, limits.FailedAuthenticationsPerAccountPerMinute);
    }

    /// <summary>How long the caller must wait before it may try credentials again; null when it may now.</summary>
    public TimeSpan? Refusal(HttpContext context, string? user)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = AddressOf(context);
        TimeSpan? wait = Empty(_byAddress, address, _addressRefill);
        if (AccountOf(user) is { } account && !Known(account, address) && Empty(_byAccount, account, _accountRefill) is { } accountWait)
        {
            wait = wait is { } w && w > accountWait ? w : accountWait;
        }
        return wait;
    }

    /// <summary>Counts a failed authentication against the caller's address and the account it tried.</summary>
    public void Failed(HttpContext context, string? user)
    {
        ArgumentNullException.ThrowIfNull(context);
        _byAddress.AttemptAcquire(AddressOf(context)).Dispose();
        if (AccountOf(user) is { } account)
        {
            _byAccount.AttemptAcquire(account).Dispose();
        }
    }

    /// <summary>Remembers that the account's credentials were right from this address.</summary>
    public void Succeeded(HttpContext context, string user)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (AccountOf(user) is not { } account)
        {
            return;
        }
        var key = account + "|" + AddressOf(context);
        long now = Environment.TickCount64;
        // Written at most once an hour per pair: the common case (a known client) only reads.
        if (_known.TryGetValue(key, out var until) && until - now > KnownFor - 3_600_000)
        {
            return;
        }
        if (_known.Count >= MaxKnown)
        {
            foreach (var (stale, expiry) in _known)
            {
                if (expiry <= now)
                {
                    _known.TryRemove(stale, out _);
                }
            }
            if (_known.Count >= MaxKnown)
            {
                _known.Clear();
            }
        }
        _known[key] = now + KnownFor;
    }

    private bool Known(string account, string address) =>
        _known.TryGetValue(account + "|" + address, out var until) && until > Environment.TickCount64;

    /// <summary>The answer to a caller that has to wait.</summary>
    public static ApiException TooMany(TimeSpan wait) =>
        ApiException.TooMany($"Too many failed authentications; try again in {ApiException.Seconds(wait)} s", wait);

    public void Dispose()
    {
        _byAddress.Dispose();
        _byAccount.Dispose();
    }

    private static (PartitionedRateLimiter<string> Buckets, TimeSpan Refill) Buckets(int burst, int perMinute)
    {
        var refill = TimeSpan.FromMinutes(1) / Math.Max(1, perMinute);
        return (PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = 1,
            ReplenishmentPeriod = refill,
            QueueLimit = 0,
            AutoReplenishment = true,
        })), refill);
    }

    // Looked at, not taken from: a bucket is empty until it holds a whole token again (it refills
    // in fractions, so "any token at all" would let a guess through every few milliseconds).
    private static TimeSpan? Empty(PartitionedRateLimiter<string> buckets, string key, TimeSpan refill) =>
        buckets.GetStatistics(key) is { CurrentAvailablePermits: < 1 } ? refill : null;

    // The address the request came from (after trusted proxies' forwarded headers, when configured).
    private static string AddressOf(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "-";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            // One host holds a whole /64; counting its addresses one by one would count nothing.
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }
        return address.ToString();
    }

    // Only real SIDs get a bucket of their own: made-up user names cannot grow the table.
    private static string? AccountOf(string? user) => user is not null && (Sid.Is(user, "AC") || Sid.Is(user, "SK")) ? user : null;
}
