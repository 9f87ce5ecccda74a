using Microsoft.AspNetCore.Http.Features;
namespace VoiceVault.Server.Api;

/// <summary>Form parameters several resources share, validated the same way everywhere.</summary>
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
    /// the bounds above; anything else, or a form past them, is a 400 that says what was wrong.
    /// </summary>
    public static async Task<IFormCollection> ReadFormAsync(this HttpContext context)
    {
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
    public static string? FriendlyName(IFormCollection form)
    {
        if (!form.TryGetValue("FriendlyName", out var value))
        {
            return null;
        }
        var name = value.ToString();
        return name.Length <= 64 ? name : throw ApiException.BadParameter("FriendlyName must be at most 64 characters", 20001);
    }
}
