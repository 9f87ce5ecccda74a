using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace VoiceVault.Server.Api;

/// <summary>
/// What one account may hold open at once (ASP.NET Core's rate limiter, a concurrency limiter per
/// account): uploads in progress and live media streams. One tenant cannot take every connection,
/// spool byte and encryption thread of an instance; past the cap it is answered 429 (code 20429)
/// at once, nothing queued, and told which limit it reached. Per instance.
/// </summary>
public static class AccountLimits
{
    public const string Uploads = "uploads-per-account";
    public const string Streams = "streams-per-account";

    public static void Add(IServiceCollection services, VaultOptions.LimitOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Uploads, context => Concurrency(context, limits.ConcurrentUploadsPerAccount));
            limiter.AddPolicy(Streams, context => Concurrency(context, limits.ConcurrentStreamsPerAccount));
            limiter.OnRejected = (rejected, _) =>
            {
                var context = rejected.HttpContext;
                var policy = context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName;
                var message = policy == Streams
                    ? $"This account already has {limits.ConcurrentStreamsPerAccount} media streams open (VoiceVault:Limits:ConcurrentStreamsPerAccount); end one first"
                    : $"This account already has {limits.ConcurrentUploadsPerAccount} uploads in progress (VoiceVault:Limits:ConcurrentUploadsPerAccount); wait for one to finish";
                return new ValueTask(ApiErrorMiddleware.Write(context, ApiException.TooMany(message, TimeSpan.FromSeconds(1))));
            };
        });
    }

    private static RateLimitPartition<string> Concurrency(HttpContext context, int permits) =>
        RateLimitPartition.GetConcurrencyLimiter(context.Caller().AccountSid, _ => new ConcurrencyLimiterOptions { PermitLimit = Math.Max(1, permits), QueueLimit = 0 });
}
