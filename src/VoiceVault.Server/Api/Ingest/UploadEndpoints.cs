using System.Security.Cryptography;
using VoiceVault.Crypto;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Primitives;
using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;

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
                var (recording, chosen) = await lifecycle.BeginAsync(callback.For(accountSid, callSid, RecordingSource.StartCallRecordingApi, wav.Channels), RecordingStatus.Processing, await accounts.ParentOfAsync(accountSid), context.Actor());
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
