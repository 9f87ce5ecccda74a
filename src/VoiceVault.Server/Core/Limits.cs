using System.Collections.Concurrent;

namespace VoiceVault.Server.Core;

/// <summary>A token bucket's shape: how many tokens it holds when full and how long one takes to come back.</summary>
public sealed record BucketShape(int Burst, TimeSpan Refill)
{
    public static BucketShape PerMinute(int burst, int perMinute) => new(Math.Max(1, burst), TimeSpan.FromMinutes(1) / Math.Max(1, perMinute));

    /// <summary>How long until a bucket holding <paramref name="tokens"/> holds a whole token again (zero when it does).</summary>
    public TimeSpan UntilOne(double tokens) => tokens >= 1 ? TimeSpan.Zero : Refill * (1 - tokens);

    /// <summary>The tokens a bucket that held <paramref name="tokens"/> holds after <paramref name="elapsed"/>.</summary>
    public double After(double tokens, TimeSpan elapsed) => Math.Min(Burst, tokens + Math.Max(0, elapsed / Refill));
}

/// <summary>
/// What the limiter counts (docs/api.md §13, docs/operations.md): token buckets of failed
/// authentications, addresses an account signed in from lately, and slots an account holds open
/// (uploads, media streams). Every instance of a vault must count in the same place or N instances
/// behind a balancer would allow N times as much: PostgreSQL holds them for a cluster; the embedded
/// vault, one process, holds them in memory (<see cref="LocalLimits"/>).
/// </summary>
public interface ILimitStore
{
    /// <summary>Takes one token from each bucket (a bucket never seen is full) and returns what each holds after.</summary>
    Task<double[]> SpendAsync(IReadOnlyList<(string Key, BucketShape Shape)> buckets, CancellationToken cancellationToken = default);

    /// <summary>What each bucket holds now, without taking any.</summary>
    Task<double[]> TokensAsync(IReadOnlyList<(string Key, BucketShape Shape)> buckets, CancellationToken cancellationToken = default);

    /// <summary>Remembers <paramref name="key"/> for <paramref name="period"/>.</summary>
    Task RememberAsync(string key, TimeSpan period, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="key"/> was remembered and its period has not run out.</summary>
    Task<bool> RememberedAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes one of <paramref name="slots"/> slots of <paramref name="key"/>, or returns null at once
    /// when all are taken; disposing the result gives it back. A slot held by an instance that died
    /// is given back when its lease runs out.
    /// </summary>
    Task<IAsyncDisposable?> TryHoldAsync(string key, int slots, CancellationToken cancellationToken = default);
}

/// <summary>The limiter's counts in this process's memory: the embedded vault's, one process.</summary>
public sealed class LocalLimits(TimeProvider clock) : ILimitStore
{
    private readonly ConcurrentDictionary<string, (double Tokens, DateTimeOffset At, BucketShape Shape)> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _remembered = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _held = new(StringComparer.Ordinal);
    // Enough for every address and account a vault hears from in a day; beyond it, the oldest go.
    private const int MaxEntries = 100_000;

    public Task<double[]> SpendAsync(IReadOnlyList<(string Key, BucketShape Shape)> buckets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        var now = clock.GetUtcNow();
        var left = new double[buckets.Count];
        for (int i = 0; i < buckets.Count; i++)
        {
            var (key, shape) = buckets[i];
            Prune(_buckets, b => b.Shape.After(b.Tokens, now - b.At) >= b.Shape.Burst);
            left[i] = _buckets.AddOrUpdate(key, _ => (shape.Burst - 1, now, shape),
                (_, b) => (Math.Max(-1, shape.After(b.Tokens, now - b.At) - 1), now, shape)).Tokens;
        }
        return Task.FromResult(left);
    }

    public Task<double[]> TokensAsync(IReadOnlyList<(string Key, BucketShape Shape)> buckets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        var now = clock.GetUtcNow();
        return Task.FromResult(buckets.Select(b => _buckets.TryGetValue(b.Key, out var held) ? b.Shape.After(held.Tokens, now - held.At) : b.Shape.Burst).ToArray());
    }

    public Task RememberAsync(string key, TimeSpan period, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        Prune(_remembered, until => until <= now);
        _remembered[key] = now + period;
        return Task.CompletedTask;
    }

    public Task<bool> RememberedAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(_remembered.TryGetValue(key, out var until) && until > clock.GetUtcNow());

    public Task<IAsyncDisposable?> TryHoldAsync(string key, int slots, CancellationToken cancellationToken = default)
    {
        lock (_held)
        {
            int held = _held.GetValueOrDefault(key);
            if (held >= slots)
            {
                return Task.FromResult<IAsyncDisposable?>(null);
            }
            _held[key] = held + 1;
        }
        return Task.FromResult<IAsyncDisposable?>(new Slot(this, key));
    }

    private void Release(string key)
    {
        lock (_held)
        {
            if (_held.TryGetValue(key, out var held) && held > 1)
            {
                _held[key] = held - 1;
            }
            else
            {
                _held.Remove(key);
            }
        }
    }

    private sealed class Slot(LocalLimits limits, string key) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                limits.Release(key);
            }
            return ValueTask.CompletedTask;
        }
    }

    // A full table first loses what no longer matters, then, if still full, everything: memory stays bounded whatever callers send.
    private static void Prune<T>(ConcurrentDictionary<string, T> table, Func<T, bool> stale)
    {
        if (table.Count < MaxEntries)
        {
            return;
        }
        foreach (var (key, value) in table)
        {
            if (stale(value))
            {
                table.TryRemove(key, out _);
            }
        }
        if (table.Count >= MaxEntries)
        {
            table.Clear();
        }
    }
}
