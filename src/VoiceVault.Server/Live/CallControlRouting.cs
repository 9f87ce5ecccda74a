using VoiceVault.Server.Api;
using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Live;

/// <summary>
/// Recording control behind a load balancer: a request about a call that streams into another
/// instance is sent on to that instance (its address from the database, where each instance
/// registers its calls and its address) and its answer returned as is. The other instance checks
/// the caller's credentials itself; a request that was already sent on once is answered where it
/// lands (21220 when the call has ended meanwhile), so requests never go round in circles.
/// </summary>
public sealed class CallControlRouting(LiveCalls calls, IInstanceStore instances, AccountDirectory accounts, VaultOptions options,
    TimeProvider clock, IHttpClientFactory http, ILogger<CallControlRouting> log) : IEndpointFilter
{
    public const string ForwardedHeader = "X-VoiceVault-Forwarded-By";
    public const string HttpClientName = "instances";

    // Headers that belong to one connection (RFC 9110 §7.6.1), the target's Host, and our own mark.
    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Expect", ForwardedHeader,
        // Only the status, content type and body are passed back: the answer must come as is, not compressed.
        "Accept-Encoding",
    };

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var sid = context.GetRouteValue("sid")?.ToString() ?? "";
        var callSid = context.GetRouteValue("callSid")?.ToString() ?? "";
        var account = await context.AccountInScopeAsync(accounts, sid);
        if (calls.Find(account.Sid, callSid) is not null || context.Request.Headers.ContainsKey(ForwardedHeader))
        {
            return await next(invocation);
        }
        var owner = await instances.LiveCallAddressAsync(account.Sid, callSid, options.InstanceId,
            clock.GetUtcNow() - TimeSpan.FromSeconds(options.InstanceLeaseSeconds), context.RequestAborted);
        if (owner is null)
        {
            return await next(invocation);
        }
        // Read as the endpoint reads it: no body is no parameters (the Twilio SDK sends none when no option is set).
        var form = await context.ReadFormAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(owner), context.Request.Path + context.Request.QueryString))
        {
            Content = new FormUrlEncodedContent(form.SelectMany(field => field.Value.Select(value => KeyValuePair.Create(field.Key, value ?? "")))),
        };
        // The request's own headers as they came — its credentials among them: Basic, or the
        // console's session cookie with its CSRF token — but those of this hop and of the body,
        // which the client sending it on sets itself.
        foreach (var (name, value) in context.Request.Headers)
        {
            if (!HopHeaders.Contains(name) && !name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
            }
        }
        request.Headers.TryAddWithoutValidation(ForwardedHeader, options.InstanceId);
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, context.RequestAborted);
            var body = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
            return Results.Empty;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            log.CallOwnerSilent(callSid, owner, e.Message);
            throw new ApiException(20503, 503, $"Call {callSid} streams into another instance of this vault, which did not answer; try again.");
        }
    }
}
