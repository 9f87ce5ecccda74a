using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceVault.Server.Tests;

/// <summary>A customer's webhook endpoint on loopback: records every request; can be told to fail or hang.</summary>
public sealed class CallbackReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    public sealed record Received(string Method, string Url, string? Signature, Dictionary<string, string> Parameters, string? Authorization = null);

    private CallbackReceiver(WebApplication app)
    {
        _app = app;
        Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/callbacks";
    }

    public string Url { get; }

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>"ok", "error" (HTTP 500) or "hang" (no answer for 30 s).</summary>
    public string Mode { get; set; } = "ok";

    public int Failures;

    /// <summary>When set, answers a received callback (recorded all the same); null leaves it the usual 200.</summary>
    public Func<HttpContext, IResult?>? Answer { get; set; }

    public static async Task<CallbackReceiver> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        CallbackReceiver? receiver = null;
        app.Map("/callbacks", async (HttpContext context) =>
        {
            var self = receiver!;
            if (self.Mode == "error")
            {
                Interlocked.Increment(ref self.Failures);
                return Results.StatusCode(500);
            }
            if (self.Mode == "hang")
            {
                Interlocked.Increment(ref self.Failures);
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return Results.StatusCode(504);
            }
            var parameters = new Dictionary<string, string>();
            if (context.Request.HasFormContentType)
            {
                foreach (var (k, v) in await context.Request.ReadFormAsync())
                {
                    parameters[k] = v.ToString();
                }
            }
            else
            {
                foreach (var (k, v) in context.Request.Query)
                {
                    parameters[k] = v.ToString();
                }
            }
            var url = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.Path}{context.Request.QueryString}";
            var status = parameters.GetValueOrDefault("RecordingStatus") ?? "";
            self._arrived.GetOrAdd(status, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            if (status == "in-progress" && self.HoldInProgress is { } hold)
            {
                await hold.Task.WaitAsync(context.RequestAborted);
            }
            self.Requests.Enqueue(new Received(context.Request.Method, url, context.Request.Headers["X-Twilio-Signature"].ToString(), parameters,
                context.Request.Headers.Authorization.FirstOrDefault()));
            return self.Answer?.Invoke(context) ?? Results.Ok();
        });
        await app.StartAsync();
        receiver = new CallbackReceiver(app);
        return receiver;
    }

    /// <summary>When set, in-progress callbacks are held unanswered until it completes (they count as arrived, not as received).</summary>
    public TaskCompletionSource? HoldInProgress { get; set; }

    // Completed when the first callback with that RecordingStatus arrives, answered or not.
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _arrived = new(StringComparer.Ordinal);

    /// <summary>Whether a callback with this status arrives within <paramref name="timeout"/> (for "not yet" checks, which need a bound).</summary>
    public async Task<bool> ArrivesWithinAsync(string status, TimeSpan timeout)
    {
        var arrived = _arrived.GetOrAdd(status, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        try
        {
            await arrived.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public async Task<List<Received>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        await Eventually.TrueAsync(() => Requests.Count >= count, $"{count} callbacks arrive", timeout);
        return Requests.ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
