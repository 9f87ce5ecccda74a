using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api;

/// <summary>
/// What one account may hold open at once: uploads in progress and live media streams. One tenant
/// cannot take every connection, spool byte and encryption thread; past the cap it is answered 429
/// (code 20429) at once, nothing queued, and told which limit it reached. The slots are counted in
/// <see cref="ILimitStore"/>, so on PostgreSQL the cap holds across every instance of the cluster.
/// An endpoint asks for a slot with <see cref="RequireAccountSlot{TBuilder}"/>; the slot is held
/// from after authentication until the response (or the stream) ends.
/// </summary>
public static class AccountLimits
{
    public const string Uploads = "uploads";
    public const string Streams = "streams";

    /// <summary>The endpoint's requests each hold one of their account's slots of this kind.</summary>
    public sealed record Slot(string Kind);

    public static TBuilder RequireAccountSlot<TBuilder>(this TBuilder builder, string kind) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new Slot(kind));

    /// <summary>Holds the slot an endpoint asks for (after authentication and authorization), or answers 429.</summary>
    public static IApplicationBuilder UseAccountLimits(this IApplicationBuilder app, VaultOptions.LimitOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<Slot>() is not { } slot)
            {
                await next(context);
                return;
            }
            var (cap, message) = slot.Kind == Streams
                ? (limits.ConcurrentStreamsPerAccount, $"This account already has {limits.ConcurrentStreamsPerAccount} media streams open (VoiceVault:Limits:ConcurrentStreamsPerAccount); end one first")
                : (limits.ConcurrentUploadsPerAccount, $"This account already has {limits.ConcurrentUploadsPerAccount} uploads in progress (VoiceVault:Limits:ConcurrentUploadsPerAccount); wait for one to finish");
            var store = context.RequestServices.GetRequiredService<ILimitStore>();
            await using var held = await store.TryHoldAsync(slot.Kind + ":" + context.Caller().AccountSid, Math.Max(1, cap), context.RequestAborted)
                ?? throw ApiException.TooMany(message, TimeSpan.FromSeconds(1));
            await next(context);
        });
    }
}
