using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Server.Tests;

/// <summary>A Twilio Media Streams client: what Twilio's &lt;Stream&gt; sends, message for message.</summary>
internal sealed class MediaStream : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private int _sequence;

    public string CallSid { get; } = Audio.CallSid();

    public string StreamSid { get; } = "MZ" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The Twilio account its start message names (Twilio's own, for a stream Twilio opens).</summary>
    public string TwilioAccountSid { get; init; } = "AC" + new string('0', 32);

    /// <summary>The handshake's HTTP status (101 when the vault accepted the stream).</summary>
    public System.Net.HttpStatusCode HandshakeStatus => _socket.HttpStatusCode;

    public static Task<MediaStream> ConnectAsync(VaultServer vault, string user, string password) => ConnectAsync(vault.BaseUri, user, password);

    /// <summary>Opens a stream with Basic credentials: ws://, or wss:// to an https vault (<paramref name="options"/> sets, say, which certificates to trust).</summary>
    public static async Task<MediaStream> ConnectAsync(Uri vault, string user, string password, Action<ClientWebSocketOptions>? options = null)
    {
        var stream = new MediaStream();
        stream._socket.Options.SetRequestHeader("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        options?.Invoke(stream._socket.Options);
        await stream._socket.ConnectAsync(new Uri($"{(vault.Scheme == "https" ? "wss" : "ws")}://{vault.Authority}/v1/Ingest/MediaStream"), CancellationToken.None);
        await stream.SendAsync(new { @event = "connected", protocol = "Call", version = "1.0.0" });
        return stream;
    }

    /// <summary>
    /// Opens a stream as Twilio does: no credentials and no query string, the vault account in the
    /// path, the upgrade signed (<paramref name="signature"/>). A refused handshake leaves the stream
    /// unopened with its <see cref="HandshakeStatus"/>; the caller disposes it either way.
    /// </summary>
    public static async Task<MediaStream> ConnectAsTwilioAsync(Uri vault, string accountSid, string? signature, string twilioAccountSid)
    {
        var stream = new MediaStream { TwilioAccountSid = twilioAccountSid };
        stream._socket.Options.CollectHttpResponseDetails = true;
        if (signature is not null)
        {
            stream._socket.Options.SetRequestHeader("X-Twilio-Signature", signature);
        }
        try
        {
            await stream._socket.ConnectAsync(new Uri($"ws://{vault.Authority}/v1/Ingest/MediaStream/{accountSid}"), CancellationToken.None);
        }
        catch (WebSocketException)
        {
            return stream;
        }
        await stream.SendAsync(new { @event = "connected", protocol = "Call", version = "1.0.0" });
        return stream;
    }

    public Task SendAsync(object message) => SendRawAsync(JsonSerializer.Serialize(message));

    public Task SendRawAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task StartAsync(Dictionary<string, string>? custom = null, string encoding = "audio/x-mulaw") => SendAsync(new
    {
        @event = "start",
        sequenceNumber = (++_sequence).ToString(System.Globalization.CultureInfo.InvariantCulture),
        start = new
        {
            accountSid = TwilioAccountSid,
            streamSid = StreamSid,
            callSid = CallSid,
            tracks = new[] { "inbound", "outbound" },
            mediaFormat = new { encoding, sampleRate = 8000, channels = 1 },
            customParameters = custom ?? [],
        },
        streamSid = StreamSid,
    });

    public Task MediaAsync(string track, long timestamp, byte[] payload) => SendAsync(new
    {
        @event = "media",
        sequenceNumber = (++_sequence).ToString(System.Globalization.CultureInfo.InvariantCulture),
        media = new { track, chunk = (timestamp / 20 + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), timestamp = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), payload = Convert.ToBase64String(payload) },
        streamSid = StreamSid,
    });

    /// <summary>Sends stop and waits for the vault to close the socket (after the recordings are stored).</summary>
    public async Task StopAsync()
    {
        await SendAsync(new { @event = "stop", sequenceNumber = (++_sequence).ToString(System.Globalization.CultureInfo.InvariantCulture), stop = new { accountSid = "", callSid = CallSid }, streamSid = StreamSid });
        await WaitClosedAsync();
    }

    public async Task<WebSocketCloseStatus?> WaitClosedAsync()
    {
        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    break;
                }
            }
        }
        catch (WebSocketException)
        {
            return null; // the vault dropped the connection without a close frame
        }
        return _socket.CloseStatus;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        await Task.CompletedTask;
    }

    /// <summary>G.711 μ-law to 16-bit PCM, written independently of the server's table.</summary>
    public static short Decode(byte mulaw)
    {
        mulaw = (byte)~mulaw;
        int sign = mulaw & 0x80, exponent = (mulaw >> 4) & 7, mantissa = mulaw & 0x0F;
        int sample = ((mantissa << 3) + 132 << exponent) - 132;
        return (short)(sign != 0 ? -sample : sample);
    }

    /// <summary>A 20 ms frame of audible μ-law (no 0xFF/0x7F, which are silence).</summary>
    public static byte[] Frame()
    {
        var frame = RandomNumberGenerator.GetBytes(160);
        for (int i = 0; i < frame.Length; i++)
        {
            if ((frame[i] & 0x7F) == 0x7F)
            {
                frame[i] ^= 0x01;
            }
        }
        return frame;
    }
}
