using Microsoft.AspNetCore.Authorization;

namespace VoiceVault.Server.Api;

/// <summary>
/// Auditor keys (docs/audit.md): an API key created with <c>Role=auditor</c> reads the audit
/// trail, checkpoints, signing keys and the metadata of recordings and accounts in its account's
/// tree — and nothing else: no media, no change. Deny by default: an endpoint answers an auditor
/// only when it is marked <see cref="AllowAuditors{TBuilder}"/>; every other answers 403 (20403)
/// before it runs, so an endpoint added later is closed to auditors until someone decides otherwise.
/// </summary>
public static class AuditorAccess
{
    /// <summary>The mark of an endpoint an auditor key may call.</summary>
    public sealed class Allowed;

    public static TBuilder AllowAuditors<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new Allowed());

    public static ApiException Forbidden(string what) =>
        new(20403, 403, $"An auditor key reads the audit trail and metadata only: {what} is not for it (use a full API key or the account's token)");

    /// <summary>Refuses an auditor every endpoint not marked for it (anonymous ones are anyone's).</summary>
    public static IApplicationBuilder UseAuditorScope(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var endpoint = context.GetEndpoint();
            if (context.IsAuditor() && endpoint is not null && endpoint.Metadata.GetMetadata<Allowed>() is null && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null)
            {
                throw Forbidden($"{context.Request.Method} {context.Request.Path}");
            }
            await next(context);
        });
}
