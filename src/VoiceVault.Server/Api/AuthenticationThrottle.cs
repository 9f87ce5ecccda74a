using System.Net;
using System.Net.Sockets;
using System.Collections.Concurrent;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api;

/// <summary>
/// Guessing credentials is slowed to a crawl (docs/api.md §13): each failed authentication takes a token
/// from its client address's bucket and from its account's (or API key's), and a caller whose
/// bucket is empty is answered 429 (code 20429, Retry-After) before its credentials are even
/// looked at. The address bucket is small, so one guesser stops long before the account's bucket
/// runs dry and the right password from elsewhere keeps working; the account bucket stops a guess
/// spread over many addresses. IPv6 clients are counted by their /64.
/// <para>
/// The buckets are kept where every instance counts (<see cref="ILimitStore"/>: PostgreSQL for a
/// cluster, memory for the embedded vault), so N instances behind a balancer refuse after as many
/// tries as one. A bucket found empty is also remembered here, and told to the other instances by a
/// cluster signal, until it holds a token again: credentials this instance verified a moment ago
/// (which skip the store) are refused from an emptied address too, or a guesser could keep
/// guessing unchecked and learn from the one answer that is not a 429.
/// </para>
/// </summary>
public sealed class AuthenticationThrottle
{
    private const string EmptySignal = "limits-empty ";
    private static readonly TimeSpan KnownFor = TimeSpan.FromHours(24);
    private readonly ILimitStore _limits;
    private readonly IClusterSignals _signals;
    private readonly TimeProvider _clock;
    private readonly BucketShape _addressShape;
    private readonly BucketShape _accountShape;
    // Buckets known to be empty, and until when (Unix ms): what a verified caller is checked against.
    private readonly ConcurrentDictionary<string, long> _empty = new(StringComparer.Ordinal);
    // (account, address) pairs this instance wrote to the store lately: written at most once an hour each.
    private readonly ConcurrentDictionary<string, long> _rememberedHere = new(StringComparer.Ordinal);
    private const int MaxLocal = 100_000;

    private readonly FailedAuthentications _failures;

    public AuthenticationThrottle(ILimitStore limits, IClusterSignals signals, TimeProvider clock, VaultOptions options, FailedAuthentications failures)
    {
        ArgumentNullException.ThrowIfNull(options);
        _failures = failures;
        _limits = limits;
        _signals = signals;
        _clock = clock;
        var settings = options.Limits;
        _addressShape = BucketShape.PerMinute(settings.FailedAuthenticationsPerAddress, settings.FailedAuthenticationsPerAddressPerMinute);
        _accountShape = BucketShape.PerMinute(settings.FailedAuthenticationsPerAccount, settings.FailedAuthenticationsPerAccountPerMinute);
        signals.Subscribe(signal =>
        {
            if (signal.StartsWith(EmptySignal, StringComparison.Ordinal) && signal.Split(' ') is [_, var key, var until]
                && long.TryParse(until, System.Globalization.CultureInfo.InvariantCulture, out var ms))
            {
                MarkEmpty(key, ms);
            }
        });
    }

    /// <summary>
    /// How long the caller must wait before it may try credentials again; null when it may now.
    /// <paramref name="verifiedHere"/>: its credentials were verified by this instance a moment ago,
    /// so only the buckets known to be empty are looked at, not the store.
    /// </summary>
    public async Task<TimeSpan?> RefusalAsync(HttpContext context, string? user, bool verifiedHere = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = AddressKey(context);
        var account = AccountKey(user);
        TimeSpan? addressWait = EmptyHere(address);
        TimeSpan? accountWait = account is null ? null : EmptyHere(account);
        if (addressWait is null && accountWait is null && !verifiedHere)
        {
            var tokens = await _limits.TokensAsync(Buckets(address, account), context.RequestAborted);
            addressWait = Empty(address, _addressShape, tokens[0]);
            accountWait = account is null ? null : Empty(account, _accountShape, tokens[1]);
        }
        if (accountWait is not null && await KnownAsync(account!, address, context.RequestAborted))
        {
            accountWait = null;
        }
        return addressWait > accountWait || accountWait is null ? addressWait : accountWait;
    }

    /// <summary>Counts a failed authentication against the caller's address and the account it tried, and for the audit trail (<c>auth.failed</c>).</summary>
    public async Task FailedAsync(HttpContext context, string? user)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = AddressKey(context);
        _failures.Count(user, address);
        var buckets = Buckets(address, AccountKey(user));
        var left = await _limits.SpendAsync(buckets, CancellationToken.None);
        for (int i = 0; i < buckets.Count; i++)
        {
            if (Empty(buckets[i].Key, buckets[i].Shape, left[i]) is { } wait)
            {
                await _signals.SendAsync(EmptySignal + buckets[i].Key + " " + (_clock.GetUtcNow() + wait).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>Remembers that the account's credentials were right from this address.</summary>
    public async Task SucceededAsync(HttpContext context, string user)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (AccountKey(user) is not { } account)
        {
            return;
        }
        var pair = account + "|" + AddressKey(context);
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        // The common case (a known client) only reads this table.
        if (_rememberedHere.TryGetValue(pair, out var written) && now - written < 3_600_000)
        {
            return;
        }
        if (_rememberedHere.Count >= MaxLocal)
        {
            _rememberedHere.Clear();
        }
        _rememberedHere[pair] = now;
        await _limits.RememberAsync(pair, KnownFor, CancellationToken.None);
    }

    /// <summary>The answer to a caller that has to wait.</summary>
    public static ApiException TooMany(TimeSpan wait) =>
        ApiException.TooMany($"Too many failed authentications; try again in {ApiException.Seconds(wait)} s", wait);

    private List<(string Key, BucketShape Shape)> Buckets(string address, string? account) =>
        account is null ? [(address, _addressShape)] : [(address, _addressShape), (account, _accountShape)];

    // Empty until it holds a whole token again (it refills in fractions, so "any token at all" would
    // let a guess through every few milliseconds); an empty bucket is remembered here till then.
    private TimeSpan? Empty(string key, BucketShape shape, double tokens)
    {
        if (tokens >= 1)
        {
            return null;
        }
        var wait = shape.UntilOne(tokens);
        MarkEmpty(key, (_clock.GetUtcNow() + wait).ToUnixTimeMilliseconds());
        return wait;
    }

    private void MarkEmpty(string key, long untilMs)
    {
        if (_empty.Count >= MaxLocal)
        {
            _empty.Clear();
        }
        _empty.AddOrUpdate(key, untilMs, (_, known) => Math.Max(known, untilMs));
    }

    private TimeSpan? EmptyHere(string key)
    {
        if (!_empty.TryGetValue(key, out var until))
        {
            return null;
        }
        var wait = DateTimeOffset.FromUnixTimeMilliseconds(until) - _clock.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            return wait;
        }
        _empty.TryRemove(new KeyValuePair<string, long>(key, until));
        return null;
    }

    private async Task<bool> KnownAsync(string account, string address, CancellationToken cancellationToken)
    {
        var pair = account + "|" + address;
        return (_rememberedHere.TryGetValue(pair, out var written) && _clock.GetUtcNow().ToUnixTimeMilliseconds() - written < KnownFor.TotalMilliseconds)
            || await _limits.RememberedAsync(pair, cancellationToken);
    }

    // The address the request came from (after trusted proxies' forwarded headers, when configured).
    private static string AddressKey(HttpContext context)
    {
        var address = context.ClientAddress();
        if (address is null)
        {
            return "-";
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
    private static string? AccountKey(string? user) => user is not null && (Sid.Is(user, "AC") || Sid.Is(user, "SK")) ? user : null;
}
