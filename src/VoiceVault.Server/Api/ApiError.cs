using System.Text.Json.Serialization;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Api;

/// <summary>Twilio's error body: <c>{"code", "message", "more_info", "status"}</c>.</summary>
public sealed record ApiError(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("more_info")] string MoreInfo,
    [property: JsonPropertyName("status")] int Status)
{
    /// <summary>Twilio's codes point at Twilio's page; ours (90001–90006) at where this repository documents them.</summary>
    public static ApiError Of(int code, int status, string message) =>
        new(code, message, code >= 90000 ? $"docs/compatibility.md#our-error-codes ({code})" : $"https://www.twilio.com/docs/errors/{code}", status);
}

/// <summary>
/// Thrown anywhere in a request to answer with a Twilio-style error; <see cref="ApiErrorMiddleware"/>
/// is the one place that writes it.
/// </summary>
public sealed class ApiException(int code, int status, string message) : Exception(message)
{
    public int Code { get; } = code;

    public int Status { get; } = status;

    public static ApiException NotFound(string what) => new(20404, 404, $"The requested resource {what} was not found");

    /// <summary>400 with Twilio's "invalid parameter" code 20001, or a more specific 21xxx one.</summary>
    public static ApiException BadParameter(string message, int code = 20001) => new(code, 400, message);

    public static ApiException Unauthenticated() => new(20003, 401, "Authenticate");

    /// <summary>When a 429 may be tried again (the Retry-After header), if this is one.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>429 with Twilio's "too many requests" code 20429, and when to try again.</summary>
    public static ApiException TooMany(string message, TimeSpan retryAfter) => new(20429, 429, message) { RetryAfter = retryAfter };

    /// <summary>The Retry-After header's value: whole seconds, at least one.</summary>
    public static string Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class ApiErrorMiddleware(RequestDelegate next, ILogger<ApiErrorMiddleware> log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            await Write(context, e);
        }
        catch (Core.AuditUnavailableException e) when (!context.Response.HasStarted)
        {
            // Nothing the request asked for was sent or kept: an access the trail cannot record does not happen.
            log.AuditUnavailable(context.Request.Method, context.Request.Path, e.Message);
            context.Response.Headers.RetryAfter = "1";
            await Write(context, ApiError.Of(90003, 503, "The audit trail cannot record this request now, so it was not carried out; try again"));
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            int status = e.StatusCode == 413 ? 413 : 400;
            await Write(context, ApiError.Of(status == 413 ? 21617 : 20001, status, e.Message));
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            log.Unhandled(e, context.Request.Method, context.Request.Path);
            await Write(context, ApiError.Of(20500, 500, "An internal server error occurred"));
        }
    }

    /// <summary>Answers with <paramref name="e"/>, and its Retry-After when it has one.</summary>
    public static Task Write(HttpContext context, ApiException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.RetryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = ApiException.Seconds(wait);
        }
        return Write(context, ApiError.Of(e.Code, e.Status, e.Message));
    }

    public static Task Write(HttpContext context, ApiError error)
    {
        context.Response.StatusCode = error.Status;
        // Not to a page's fetch (the console's): a browser answers that header with its own sign-in dialog.
        if (error.Status == 401 && context.Request.Headers["Sec-Fetch-Mode"] is not ["cors" or "same-origin"])
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"VoiceVault\"";
        }
        return context.Response.WriteAsJsonAsync(error);
    }
}
