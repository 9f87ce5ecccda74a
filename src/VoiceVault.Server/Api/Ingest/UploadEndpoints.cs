using System.Security.Cryptography;
using VoiceVault.Crypto;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Primitives;
using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;
using VoiceVault.Server.Api.Recordings;

namespace VoiceVault.Server.Api.Ingest;

/// <summary>
/// <c>PUT /v1/Ingest/Calls/{CallSid}/Recording</c> (docs/api.md §7, ingest 2): a finished WAV, encrypted
/// as it streams in — one fresh CEK and IV per recording — so that only ciphertext reaches the
/// media store. Only the first 64 KiB are held (in memory) to read the WAV header.
/// </summary>
public static class UploadEndpoints
{
    private const int HeadSize = 64 * 1024;

    public static void MapUploadEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/Ingest/Calls/{callSid}/Recording", async (string callSid, [AsParameters] UploadQuery query, HttpContext context, AccountDirectory accounts,
            RecordingLifecycle lifecycle, IMediaStore media, MasterKey masterKey,
            VaultOptions options, VaultMetrics metrics, IHostApplicationLifetime lifetime, ILoggerFactory logs, Webhooks.CallbackAddresses addresses) =>
        {
            var log = logs.CreateLogger("VoiceVault.Ingest.Upload");
            // The one large body the vault takes: bounded by MaxUploadBytes, not the small default.
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
            {
                bodyLimit.MaxRequestBodySize = options.MaxUploadBytes;
            }
            var accountSid = context.Caller().AccountSid;
            if (!Sid.Is(callSid, "CA"))
            {
                throw ApiException.BadParameter($"CallSid '{callSid}' is not a call SID (CA followed by 32 lower-case hex digits)", 20001);
            }
            var callback = query.Parameters(addresses);

            var head = new byte[HeadSize];
            int headLength = await context.Request.Body.ReadAtLeastAsync(head, HeadSize, throwOnEndOfStream: false, context.RequestAborted);
            try
            {
                var wav = WavHeader.Parse(head.AsSpan(0, headLength), out var problem);
                if (problem is not null)
                {
                    throw ApiException.BadParameter($"The recording is not usable: {problem}", 20001);
                }
                var (recording, chosen) = await lifecycle.BeginAsync(callback.For(accountSid, callSid, RecordingSource.StartCallRecordingApi, wav.Channels), RecordingStatus.Processing, await accounts.ParentOfAsync(accountSid));
                if (chosen is not { } plan)
                {
                    log.NoUsableKey(recording.Sid, callSid);
                    metrics.Uploads.Add(1, recording.Status.Text());
                    return TypedResults.Created((string?)null, RecordingJson.Of(recording, options));
                }
                using var planned = plan;
                try
                {
                    recording = await lifecycle.FinishAsync(recording, plan, async () => await plan.StoreAsync(recording, RecordingLifecycle.MediaKeyOf(recording), media, masterKey,
                        async encryptor =>
                        {
                            await encryptor.WriteAsync(head.AsMemory(0, headLength), context.RequestAborted);
                            CryptographicOperations.ZeroMemory(head);
                            await context.Request.Body.CopyToAsync(encryptor, 64 * 1024, context.RequestAborted);
                        }, wav.Channels, plaintext => (int)wav.DurationSeconds(plaintext), context.RequestAborted), e => IsClientSide(e, context, lifetime));
                }
                catch (Exception e) when (IsClientSide(e, context, lifetime))
                {
                    // The upload itself broke (client gone, body over the limit): nothing was stored.
                    log.UploadAbsent(recording.Sid, e.GetType().Name);
                    metrics.Uploads.Add(1, RecordingStatus.Absent.Text());
                    throw;
                }
                if (recording.Status == RecordingStatus.Failed)
                {
                    log.UploadFailed(recording.Sid);
                    metrics.Uploads.Add(1, recording.Status.Text());
                    return TypedResults.Created((string?)null, RecordingJson.Of(recording, options));
                }
                long total = recording.MediaSize!.Value - RecordingFormat.TagSize;
                metrics.Uploads.Add(1, recording.Status.Text());
                metrics.UploadPlaintext.Add(total);
                log.RecordingStored(recording.Sid, callSid, total, recording.KeyMode?.Text());
                return TypedResults.Created((string?)null, RecordingJson.Of(recording, options));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(head);
            }
        }).WithTags("Ingest").RequireAccountSlot(AccountLimits.Uploads);
    }

    // The body broke (over the size limit, connection reset, client gone): not an encryption
    // failure. But an upload cut because this server is shutting down is the server's failure
    // (16104, as a crash would be), not an absent recording.
    private static bool IsClientSide(Exception e, HttpContext context, IHostApplicationLifetime lifetime) =>
        !lifetime.ApplicationStopping.IsCancellationRequested &&
        (e is BadHttpRequestException or Microsoft.AspNetCore.Connections.ConnectionResetException || context.RequestAborted.IsCancellationRequested);
}

/// <summary>An upload's parameters: Twilio's Recording* names, in the query (the body is the WAV).</summary>
public sealed record UploadQuery(
    [FromQuery(Name = "RecordingStatusCallback")] string? RecordingStatusCallback,
    [FromQuery(Name = "RecordingStatusCallbackMethod")] string? RecordingStatusCallbackMethod,
    [FromQuery(Name = "RecordingStatusCallbackEvent")] StringValues? RecordingStatusCallbackEvent,
    [FromQuery(Name = "RecordingChannels")] string? RecordingChannels,
    [FromQuery(Name = "RecordingTrack")] string? RecordingTrack)
{
    public RecordingParameters Parameters(Webhooks.CallbackAddresses addresses) => RecordingParameters.From(RecordingStatusCallback, RecordingStatusCallbackMethod,
        RecordingStatusCallbackEvent, RecordingChannels, RecordingTrack, addresses);
}

/// <summary>The Recording* parameters shared by both ingest paths.</summary>
public sealed record RecordingParameters(string? Url, string Method, string Events, string Channels, string Track)
{
    /// <summary>The recording these parameters ask for, of <paramref name="channels"/> channels.</summary>
    public NewRecording For(string accountSid, string callSid, RecordingSource source, int channels) => new()
    {
        AccountSid = accountSid,
        CallSid = callSid,
        Source = source,
        Track = Track,
        Channels = channels,
        CallbackUrl = Url,
        CallbackMethod = Method,
        CallbackEvents = Events,
    };

    /// <summary>
    /// The Recording* parameters as given (null: not given) — in an upload's query or a call-control
    /// form, each with its own request record — validated once, here, for both.
    /// </summary>
    public static RecordingParameters From(string? callbackUrl, string? callbackMethod, StringValues? callbackEvents, string? recordingChannels,
        string? recordingTrack, Webhooks.CallbackAddresses addresses)
    {
        string? url = string.IsNullOrEmpty(callbackUrl) ? null : callbackUrl;
        if (url is not null)
        {
            // The URL is not echoed: it may carry credentials (user:password@), which no answer repeats.
            if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || Webhooks.CallbackUrl.Host(parsed) is not { Length: > 0 })
            {
                throw ApiException.BadParameter(
                    "RecordingStatusCallback is not an absolute http or https URL" + (parsed is { Scheme: var scheme } && scheme is not ("http" or "https") ? $" (its scheme is {scheme})" : ""), 21609);
            }
            if (addresses.RefusalOfLiteral(parsed) is { } why)
            {
                throw ApiException.BadParameter($"RecordingStatusCallback {Webhooks.CallbackUrl.Shown(url)} is refused: {why}, which the vault does not call", 21609);
            }
        }
        var method = string.IsNullOrEmpty(callbackMethod) ? "POST" : callbackMethod.ToUpperInvariant();
        if (method is not ("GET" or "POST"))
        {
            throw ApiException.BadParameter($"RecordingStatusCallbackMethod must be GET or POST; got '{callbackMethod}'", 21610);
        }
        var events = callbackEvents is { } given
            ? given.SelectMany(v => (v ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).Distinct().ToArray()
            : ["completed"];
        foreach (var ev in events)
        {
            if (!StatusCallback.Events.Contains(ev))
            {
                throw ApiException.BadParameter($"RecordingStatusCallbackEvent '{ev}' is not one of {string.Join(", ", StatusCallback.Events)}", 20001);
            }
        }
        var channels = string.IsNullOrEmpty(recordingChannels) ? "mono" : recordingChannels;
        if (channels is not ("mono" or "dual"))
        {
            throw ApiException.BadParameter($"RecordingChannels must be mono or dual; got '{recordingChannels}'", 20001);
        }
        var track = string.IsNullOrEmpty(recordingTrack) ? "both" : recordingTrack;
        if (track is not ("inbound" or "outbound" or "both"))
        {
            throw ApiException.BadParameter($"RecordingTrack must be inbound, outbound or both; got '{recordingTrack}'", 20001);
        }
        return new RecordingParameters(url, method, string.Join(' ', events), channels, track);
    }
}
