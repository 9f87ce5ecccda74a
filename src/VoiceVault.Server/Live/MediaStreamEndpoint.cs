using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.Extensions.Primitives;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Live;

/// <summary>
/// <c>GET /v1/Ingest/MediaStream[/{AccountSid}]</c>: a WebSocket speaking Twilio Media Streams
/// (connected, start, media, stop; mark and dtmf are accepted and ignored). With Basic credentials
/// the call is recorded under the path's account (one the caller may act on) or the caller's own;
/// a stream Twilio opens is signed instead (<see cref="StreamSignatureAuthenticationHandler"/>) and
/// its <c>start.accountSid</c> must be the linked Twilio account, or it is closed (1008) before
/// any audio is kept. The call is recorded from <c>start</c>
/// unless its custom parameters say Record=false; the end of the stream (stop, close, idle timeout,
/// the maximum call length, shutdown) ends the call and its recordings.
/// </summary>
public static class MediaStreamEndpoint
{
    public const string Path = "/v1/Ingest/MediaStream";
    // Twilio's messages are a few hundred bytes (a 20 ms frame is 160 bytes of μ-law).
    private const int MaxMessage = 16 * 1024;

    public static void MapMediaStreamEndpoint(this IEndpointRouteBuilder app)
    {
        var streams = new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(BasicAuthenticationHandler.SchemeName, StreamSignatureAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser().Build();
        app.MapGet(Path, StreamAsync).WithTags("Ingest").ExcludeFromDescription().RequireAuthorization(streams).RequireAccountSlot(AccountLimits.Streams);
        // Twilio drops a <Stream> url's query string: the account goes in the path.
        app.MapGet(Path + "/{accountSid}", StreamAsync).WithTags("Ingest").ExcludeFromDescription().RequireAuthorization(streams).RequireAccountSlot(AccountLimits.Streams);
    }

    private static async Task<IResult> StreamAsync(HttpContext context, string? accountSid, AccountDirectory accounts, TwilioLinks links, LiveCalls calls,
        VaultMetrics metrics, VaultOptions options, ILoggerFactory logs, Webhooks.CallbackAddresses addresses)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            throw ApiException.BadParameter("This endpoint speaks WebSocket (Twilio Media Streams); open it with an Upgrade request.", 20001);
        }
        var account = accountSid is null ? (await accounts.FindAsync(context.Caller().AccountSid))! : await context.AccountInScopeAsync(accounts, accountSid);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var session = new Session(socket, account, context.Actor(), StreamSignatureAuthenticationHandler.LinkedTwilioAccount(context), links, calls, metrics, options,
            addresses, logs.CreateLogger("VoiceVault.Ingest.MediaStream"));
        await session.RunAsync(context.RequestAborted);
        return Results.Empty;
    }

    private sealed class Session(WebSocket socket, Account account, Actor actor, string? linkedTwilioAccount, TwilioLinks links, LiveCalls calls, VaultMetrics metrics,
        VaultOptions options, Webhooks.CallbackAddresses addresses, ILogger log)
    {
        // Sized for Twilio's messages (about 400 bytes, 160 bytes of audio); grown for larger ones up to the limits.
        private byte[] _message = ArrayPool<byte>.Shared.Rent(2048);
        private readonly MediaStreamParser _parser = new();
        private LiveCall? _call;
        private string _streamSid = "-";
        private long _lastMessage = Environment.TickCount64;
        // Why the stream was cut from our side (idle, shutdown); set once, before the socket is aborted.
        private string? _endedBecause;
        private CancellationTokenRegistration _ending;

        public async Task RunAsync(CancellationToken aborted)
        {
            string outcome = "closed";
            var close = WebSocketCloseStatus.NormalClosure;
            // One watchdog per stream instead of a timed token per message: a read is never
            // cancelled, the socket is aborted (which is what cancelling a WebSocket read does anyway).
            long idleMs = options.StreamIdleSeconds * 1000L;
            using var watchdog = new Timer(_ =>
            {
                if (Environment.TickCount64 - Volatile.Read(ref _lastMessage) > idleMs)
                {
                    EndStream($"no message for {options.StreamIdleSeconds} s");
                }
            }, null, Math.Clamp(idleMs / 4, 50, 1000), Math.Clamp(idleMs / 4, 50, 1000));
            using var abortedRegistration = aborted.UnsafeRegister(_ => EndStream("the connection was aborted"), null);
            try
            {
                outcome = await ReceiveAllAsync();
            }
            catch (MediaStreamProtocolException e)
            {
                outcome = e.Message;
                close = e.Status;
                log.StreamProtocolError(_streamSid, account.Sid, e.Message);
            }
            catch (Exception e)
            {
                // The connection broke (reset, aborted, the peer vanished): the call has ended all the same.
                outcome = _endedBecause ?? $"connection lost ({e.GetType().Name})";
            }
            finally
            {
                _ending.Dispose();
                await watchdog.DisposeAsync();
                ArrayPool<byte>.Shared.Return(_message);
            }
            if (_call is not null)
            {
                long ended = Stopwatch.GetTimestamp();
                await calls.CloseAsync(_call);
                await _call.EndAllAsync();
                metrics.StopSeconds.Observe(Stopwatch.GetElapsedTime(ended));
                log.CallEnded(_call.CallSid, _streamSid, outcome);
            }
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await socket.CloseOutputAsync(close, outcome.Length > 120 ? outcome[..120] : outcome, timeout.Token);
                    // The closing handshake: what the peer sent meanwhile is read (and dropped) until
                    // its own close. Closing the connection with its messages unread would reset
                    // it, and a reset can destroy our close frame before the peer reads it.
                    var drain = new byte[4096];
                    while (socket.State == WebSocketState.CloseSent && (await socket.ReceiveAsync(drain, timeout.Token)).MessageType != WebSocketMessageType.Close)
                    {
                    }
                }
                catch (Exception e) when (e is WebSocketException or OperationCanceledException)
                {
                    // The peer is gone, or did not answer the close in time; nothing left to tell it.
                }
            }
        }

        private void Grow()
        {
            if (_message.Length >= MaxMessage)
            {
                throw new MediaStreamProtocolException($"a message is larger than {MaxMessage / 1024} KiB", WebSocketCloseStatus.MessageTooBig);
            }
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(2 * _message.Length, MaxMessage));
            _message.CopyTo(larger, 0);
            ArrayPool<byte>.Shared.Return(_message);
            _message = larger;
        }

        private void EndStream(string reason)
        {
            if (Interlocked.CompareExchange(ref _endedBecause, reason, null) is null)
            {
                socket.Abort();
            }
        }

        // Returns why the stream ended normally; throws MediaStreamProtocolException for a stream that broke the protocol.
        private async Task<string> ReceiveAllAsync()
        {
            while (true)
            {
                int length = 0;
                ValueWebSocketReceiveResult result;
                try
                {
                    do
                    {
                        if (length == _message.Length)
                        {
                            Grow();
                        }
                        result = await socket.ReceiveAsync(_message.AsMemory(length), CancellationToken.None);
                        length += result.Count;
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                }
                catch (Exception e) when (e is not MediaStreamProtocolException && _endedBecause is not null)
                {
                    return _endedBecause;
                }
                long arrived = Stopwatch.GetTimestamp();
                Volatile.Write(ref _lastMessage, Environment.TickCount64);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return _call is null ? "closed before start" : "closed without stop";
                }
                if (result.MessageType != WebSocketMessageType.Text)
                {
                    throw new MediaStreamProtocolException("a binary message (Media Streams messages are JSON text)", WebSocketCloseStatus.InvalidMessageType);
                }
                var json = _message.AsSpan(0, length);
                var kind = _parser.Read(json, out var frame);
                switch (kind)
                {
                    case "connected" or "mark" or "dtmf":
                        break;
                    case "start":
                        await StartAsync(MediaStreamParser.ParseStart(json));
                        break;
                    case "media":
                        if (_call is null)
                        {
                            throw new MediaStreamProtocolException("a media message before start", WebSocketCloseStatus.PolicyViolation);
                        }
                        if (frame.Track < 0 || frame.Timestamp < 0 || frame.Length < 0)
                        {
                            throw new MediaStreamProtocolException("a media message without media.track, media.timestamp and media.payload", WebSocketCloseStatus.InvalidPayloadData);
                        }
                        if (frame.Timestamp > options.MaxCallSeconds * 1000L)
                        {
                            log.CallTooLong(_call.CallSid, options.MaxCallSeconds);
                            return "the maximum call length was reached";
                        }
                        _call.Frame(frame.Track, frame.Timestamp, _parser.Payload.AsSpan(0, frame.Length));
                        metrics.FrameSeconds.Observe(Stopwatch.GetElapsedTime(arrived));
                        metrics.FramesReceived.Add(1);
                        break;
                    case "stop":
                        return "stop";
                    default:
                        log.UnknownStreamEvent(_streamSid, kind);
                        break;
                }
            }
        }

        private async Task StartAsync(StartMessage start)
        {
            if (_call is not null)
            {
                throw new MediaStreamProtocolException("a second start on one stream", WebSocketCloseStatus.PolicyViolation);
            }
            _streamSid = start.StreamSid;
            if (!Sid.Is(start.CallSid, "CA"))
            {
                throw new MediaStreamProtocolException($"start.callSid '{start.CallSid}' is not a call SID", WebSocketCloseStatus.PolicyViolation);
            }
            if (linkedTwilioAccount is not null && start.AccountSid != linkedTwilioAccount)
            {
                await links.RefuseStreamAsync(account.Sid, start.CallSid, start.AccountSid, linkedTwilioAccount);
                throw new MediaStreamProtocolException("start.accountSid is not the linked Twilio account", WebSocketCloseStatus.PolicyViolation);
            }
            if (start.Encoding != "audio/x-mulaw" || start.SampleRate != 8000 || start.Channels != 1)
            {
                throw new MediaStreamProtocolException($"media format {start.Encoding} {start.SampleRate} Hz x{start.Channels} is not supported (audio/x-mulaw, 8000 Hz, mono)", WebSocketCloseStatus.InvalidPayloadData);
            }
            RecordingParameters parameters;
            bool trim;
            try
            {
                var given = start.CustomParameters;
                parameters = RecordingParameters.From(given.GetValueOrDefault("RecordingStatusCallback"), given.GetValueOrDefault("RecordingStatusCallbackMethod"),
                    given.TryGetValue("RecordingStatusCallbackEvent", out var events) ? new StringValues(events) : (StringValues?)null,
                    given.GetValueOrDefault("RecordingChannels"), given.GetValueOrDefault("RecordingTrack"), addresses);
                trim = LiveRecordingRequest.ParseTrim(start.CustomParameters.GetValueOrDefault("Trim"));
            }
            catch (ApiException e)
            {
                throw new MediaStreamProtocolException(e.Message, WebSocketCloseStatus.PolicyViolation);
            }
            _call = await calls.OpenAsync(account, start.CallSid)
                ?? throw new MediaStreamProtocolException($"call {start.CallSid} is already streaming", WebSocketCloseStatus.PolicyViolation);
            _ending = _call.Ending.UnsafeRegister(_ => EndStream("the server is shutting down"), null);
            log.CallStreaming(start.CallSid, start.StreamSid, string.Join(',', start.Tracks));
            if (!start.CustomParameters.TryGetValue("Record", out var record) || !record.Equals("false", StringComparison.OrdinalIgnoreCase))
            {
                await _call.StartRecordingAsync(new LiveRecordingRequest(parameters, trim, RecordingSource.StartCallRecordingApi, actor));
            }
        }
    }
}
