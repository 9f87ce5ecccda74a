using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace VoiceVault.Server.Api;

/// <summary>
/// The form of every endpoint that binds one (<c>[FromForm]</c> in its request record), read here
/// before the framework binds it — within bounds, with Twilio-shaped errors — and handed to the
/// binder as the request's form. Twilio's SDKs send <c>application/x-www-form-urlencoded</c>, and no
/// body at all when no parameter is set: that is an empty form, not a request without one. Anything
/// else (JSON, multipart, a form past the bounds) is a 400 that says what was wrong, never the
/// framework's bare 415.
/// </summary>
public sealed class FormBodyMiddleware(RequestDelegate next)
{
    private const string UrlEncoded = "application/x-www-form-urlencoded";

    /// <summary>
    /// Marks the endpoints under <paramref name="builder"/> that bind a form, and lets any content type
    /// reach them: routing would otherwise answer a JSON or multipart body with a bare 415 before the
    /// middleware could say what was wrong.
    /// </summary>
    public static TBuilder ReadFormsHere<TBuilder>(TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IAcceptsMetadata>().Any(a => a.ContentTypes.Contains(UrlEncoded)))
            {
                endpoint.Metadata.Add(FormEndpoint.Instance);
                endpoint.Metadata.Add(new AnyContent());
            }
        });
        return builder;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<FormEndpoint>() is not null)
        {
            var form = await context.ReadFormAsync();
            context.Features.Set<IFormFeature>(new FormFeature(form));
            // No body (none at all, or Content-Length: 0): the empty form the binder then reads — it
            // binds forms only from requests that name a form type and may have a body.
            if (string.IsNullOrEmpty(context.Request.ContentType))
            {
                context.Request.ContentType = UrlEncoded;
            }
            if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: true })
            {
                context.Features.Set<IHttpRequestBodyDetectionFeature>(EmptyForm.Instance);
            }
        }
        await next(context);
    }

    private sealed class FormEndpoint
    {
        public static readonly FormEndpoint Instance = new();
    }

    private sealed class AnyContent : IAcceptsMetadata
    {
        public IReadOnlyList<string> ContentTypes { get; } = ["*/*"];

        public Type? RequestType => null;

        public bool IsOptional => true;
    }

    private sealed class EmptyForm : IHttpRequestBodyDetectionFeature
    {
        public static readonly EmptyForm Instance = new();

        public bool CanHaveBody => true;
    }
}

/// <summary>Reading a request's form, and the form fields several resources share, validated the same way everywhere.</summary>
public static class FormFields
{
    // Twilio's requests are a handful of short fields; these bounds leave room for a 16384-bit
    // public key's PEM and stop a body of ten thousand fields or one huge value from being parsed.
    private static readonly FormOptions Limits = new()
    {
        ValueCountLimit = 100,
        KeyLengthLimit = 256,
        ValueLengthLimit = 64 * 1024,
        BufferBody = false,
    };

    /// <summary>
    /// The request's form (application/x-www-form-urlencoded, as Twilio's SDKs send it), read within
    /// the bounds above — or the one <see cref="FormBodyMiddleware"/> already read; anything else, or
    /// a form past them, is a 400 that says what was wrong.
    /// </summary>
    public static async Task<IFormCollection> ReadFormAsync(this HttpContext context)
    {
        if (context.Features.Get<IFormFeature>() is FormFeature { Form: { } read })
        {
            return read;
        }
        var request = context.Request;
        if (request.ContentLength is 0 || (request.ContentLength is null && string.IsNullOrEmpty(request.ContentType) && !request.Headers.TransferEncoding.Any()))
        {
            return FormCollection.Empty;
        }
        if (!request.HasFormContentType || request.ContentType!.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.BadParameter($"Send the parameters as application/x-www-form-urlencoded (got {(string.IsNullOrEmpty(request.ContentType) ? "no Content-Type" : request.ContentType)})");
        }
        try
        {
            return await new FormFeature(request, Limits).ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            throw ApiException.BadParameter($"The form is too large: {e.Message}");
        }
    }

    /// <summary>FriendlyName: at most 64 characters (Twilio's limit); null when absent.</summary>
    public static string? FriendlyName(string? name) =>
        name is null || name.Length <= 64 ? name : throw ApiException.BadParameter("FriendlyName must be at most 64 characters", 20001);
}
