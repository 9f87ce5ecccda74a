using System.Buffers;
using System.Buffers.Text;
using System.Net.WebSockets;
using System.Text.Json;

namespace VoiceVault.Server.Live;

/// <summary>One media message's audio: track (0 inbound, 1 outbound), media time in ms, and its length in <see cref="MediaStreamParser.Payload"/>; -1 for what the message lacked.</summary>
public readonly record struct MediaFrame(int Track, long Timestamp, int Length);

/// <summary>
/// Twilio Media Streams messages, parsed from the bytes of one WebSocket text message — no socket,
/// no server (tests feed it raw bytes). A message that breaks the protocol throws
/// <see cref="MediaStreamProtocolException"/> with the close status the stream ends with. The
/// decoded audio of the last media message is in <see cref="Payload"/>, a buffer sized for
/// Twilio's 20 ms frames and grown up to <see cref="MaxPayload"/> for larger ones.
/// </summary>
public sealed class MediaStreamParser
{
    public const int MaxPayload = 8 * 1024;

    public byte[] Payload { get; private set; } = new byte[1024];

    /// <summary>
    /// One pass over a message: its event (the common ones without allocating), and for media the
    /// track, timestamp (ms, string or number) and payload (base64 μ-law, decoded into
    /// <see cref="Payload"/>); -1 for what is missing.
    /// </summary>
    public string Read(ReadOnlySpan<byte> json, out MediaFrame frame)
    {
        frame = new MediaFrame(-1, -1, -1);
        string? kind = null;
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new MediaStreamProtocolException("a message that is not a JSON object", WebSocketCloseStatus.InvalidPayloadData);
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("event"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new MediaStreamProtocolException("'event' is not a string", WebSocketCloseStatus.InvalidPayloadData);
                    }
                    // The common events without allocating a string per message.
                    kind = reader.ValueTextEquals("media"u8) ? "media" : reader.ValueTextEquals("start"u8) ? "start" : reader.ValueTextEquals("stop"u8) ? "stop"
                        : reader.ValueTextEquals("mark"u8) ? "mark" : reader.GetString()!;
                }
                else if (reader.ValueTextEquals("media"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        frame = ReadMedia(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            throw new MediaStreamProtocolException($"malformed JSON ({e.Message.Split('.')[0]})", WebSocketCloseStatus.InvalidPayloadData);
        }
        catch (InvalidOperationException)
        {
            // A string that is not UTF-8 (found by fuzzing: {"event":"dtmfb\xFF"}).
            throw new MediaStreamProtocolException("a string in the message is not valid UTF-8", WebSocketCloseStatus.InvalidPayloadData);
        }
        return kind ?? throw new MediaStreamProtocolException("a message without 'event'", WebSocketCloseStatus.InvalidPayloadData);
    }

    // The members of a "media" object; the reader is on its StartObject and is left on its EndObject.
    private MediaFrame ReadMedia(ref Utf8JsonReader reader)
    {
        int track = -1, length = -1;
        long timestamp = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("track"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw new MediaStreamProtocolException("media.track is not a string", WebSocketCloseStatus.InvalidPayloadData);
                }
                track = reader.ValueTextEquals("inbound"u8) ? 0 : reader.ValueTextEquals("outbound"u8) ? 1
                    : throw new MediaStreamProtocolException($"media.track '{reader.GetString()}' is not inbound or outbound", WebSocketCloseStatus.InvalidPayloadData);
            }
            else if (reader.ValueTextEquals("timestamp"u8))
            {
                reader.Read();
                bool ok = reader.TokenType == JsonTokenType.Number ? reader.TryGetInt64(out timestamp)
                    : reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped
                      && System.Buffers.Text.Utf8Parser.TryParse(reader.ValueSpan, out timestamp, out int used) && used == reader.ValueSpan.Length;
                if (!ok || timestamp < 0)
                {
                    throw new MediaStreamProtocolException("media.timestamp is not a whole number of milliseconds", WebSocketCloseStatus.InvalidPayloadData);
                }
            }
            else if (reader.ValueTextEquals("payload"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw new MediaStreamProtocolException("media.payload is not a string", WebSocketCloseStatus.InvalidPayloadData);
                }
                length = Decode(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject)
        {
            throw new MediaStreamProtocolException("malformed JSON (the media object does not end)", WebSocketCloseStatus.InvalidPayloadData);
        }
        return new MediaFrame(track, timestamp, length);
    }

    private int Decode(ref Utf8JsonReader reader)
    {
        ReadOnlySpan<byte> base64 = reader.ValueSpan;
        byte[]? unescaped = null;
        if (reader.ValueIsEscaped)
        {
            unescaped = new byte[reader.ValueSpan.Length];
            base64 = unescaped.AsSpan(0, reader.CopyString(unescaped));
        }
        int room = Base64.GetMaxDecodedFromUtf8Length(base64.Length);
        if (room > MaxPayload)
        {
            throw new MediaStreamProtocolException($"media.payload is larger than {MaxPayload / 1024} KiB", WebSocketCloseStatus.MessageTooBig);
        }
        if (room > Payload.Length)
        {
            Payload = new byte[MaxPayload];
        }
        if (Base64.DecodeFromUtf8(base64, Payload, out _, out int written) != OperationStatus.Done)
        {
            throw new MediaStreamProtocolException("media.payload is not base64", WebSocketCloseStatus.InvalidPayloadData);
        }
        return written;
    }

    public static StartMessage ParseStart(ReadOnlySpan<byte> json)
    {
        try
        {
            return StartMessage.Parse(json);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new MediaStreamProtocolException($"a start message that is not Twilio's ({e.Message.Split('.')[0]})", WebSocketCloseStatus.InvalidPayloadData);
        }
    }
}

public sealed record StartMessage(string CallSid, string StreamSid, string[] Tracks, string Encoding, int SampleRate, int Channels, Dictionary<string, string> CustomParameters,
    string? AccountSid)
{
    public static StartMessage Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var start = root.GetProperty("start");
        var format = start.GetProperty("mediaFormat");
        var custom = new Dictionary<string, string>(StringComparer.Ordinal);
        if (start.TryGetProperty("customParameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in parameters.EnumerateObject())
            {
                custom[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
        }
        string streamSid = start.TryGetProperty("streamSid", out var s) ? s.GetString()! : root.GetProperty("streamSid").GetString()!;
        return new StartMessage(start.GetProperty("callSid").GetString()!, streamSid,
            start.TryGetProperty("tracks", out var tracks) ? tracks.EnumerateArray().Select(t => t.GetString()!).ToArray() : ["inbound"],
            format.GetProperty("encoding").GetString()!, format.GetProperty("sampleRate").GetInt32(), format.GetProperty("channels").GetInt32(), custom,
            start.TryGetProperty("accountSid", out var account) && account.ValueKind == JsonValueKind.String ? account.GetString() : null);
    }
}

public sealed class MediaStreamProtocolException(string message, WebSocketCloseStatus status) : Exception(message)
{
    public WebSocketCloseStatus Status { get; } = status;
}
