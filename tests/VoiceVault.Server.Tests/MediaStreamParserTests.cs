using System.Net.WebSockets;
using System.Text;
using VoiceVault.Server.Live;

namespace VoiceVault.Server.Tests;

/// <summary>The Media Streams parser on raw message bytes: no socket, no server.</summary>
public sealed class MediaStreamParserTests
{
    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    private static byte[] Media(string base64) =>
        Bytes(System.Text.Json.JsonSerializer.Serialize(new { @event = "media", media = new { track = "inbound", timestamp = "0", payload = base64 } }));

    [Theory]
    [InlineData("\"5000\"")]
    [InlineData("5000")]
    public void A_media_message_gives_its_track_time_and_decoded_audio(string timestamp)
    {
        var audio = Enumerable.Range(0, 160).Select(i => (byte)i).ToArray();
        var parser = new MediaStreamParser();
        var kind = parser.Read(Bytes("{\"event\":\"media\",\"sequenceNumber\":\"3\",\"media\":{\"track\":\"outbound\",\"chunk\":\"2\",\"timestamp\":" + timestamp +
            ",\"payload\":\"" + Convert.ToBase64String(audio) + "\"},\"streamSid\":\"MZ1\"}"), out var frame);
        Assert.Equal("media", kind);
        Assert.Equal(new MediaFrame(1, 5000, 160), frame);
        Assert.Equal(audio, parser.Payload[..frame.Length]);
    }

    [Fact]
    public void A_string_that_is_not_utf8_is_a_protocol_error_not_a_crash()
    {
        // Found by bench/fuzz.sh (media-stream-message): the event name's bytes end in 0xFF.
        var input = Convert.FromBase64String("eyJldmVudCI6ImR0bWZi/yI=");
        var e = Assert.Throws<MediaStreamProtocolException>(() => new MediaStreamParser().Read(input, out _));
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, e.Status);
        Assert.Contains("not valid UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Escaped_base64_and_members_in_any_order_are_read()
    {
        var parser = new MediaStreamParser();
        // "\/" is how some JSON writers escape the slash base64 uses.
        var kind = parser.Read(Bytes("""{"media":{"payload":"\/\/8A","timestamp":"20","track":"inbound"},"event":"media"}"""), out var frame);
        Assert.Equal(("media", new MediaFrame(0, 20, 3)), (kind, frame));
        Assert.Equal(new byte[] { 0xff, 0xff, 0x00 }, parser.Payload[..3]);
    }

    [Fact]
    public void Missing_media_fields_are_reported_as_minus_one_for_the_caller_to_refuse()
    {
        var kind = new MediaStreamParser().Read(Bytes("""{"event":"media","media":{"track":"inbound"}}"""), out var frame);
        Assert.Equal(("media", new MediaFrame(0, -1, -1)), (kind, frame));
    }

    [Theory]
    [InlineData("[1,2,3]", "not a JSON object", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"event":5}""", "'event' is not a string", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"streamSid":"MZ1"}""", "without 'event'", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"event":"media","media":{"track":"sideways","timestamp":"1","payload":"AA=="}}""", "is not inbound or outbound", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"event":"media","media":{"track":"inbound","timestamp":"-1","payload":"AA=="}}""", "media.timestamp", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"event":"media","media":{"track":"inbound","timestamp":"1.5","payload":"AA=="}}""", "media.timestamp", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"event":"media","media":{"track":"inbound","timestamp":"1","payload":"not base64!"}}""", "not base64", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"event":"media","media":{"track":"inbound","timestamp":"1","payload":7}}""", "media.payload is not a string", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"event":"media","media":{"track":"inbound",""", "malformed JSON", WebSocketCloseStatus.InvalidPayloadData)]
    public void A_message_that_breaks_the_protocol_says_what_and_how_to_close(string json, string problem, WebSocketCloseStatus status)
    {
        var e = Assert.Throws<MediaStreamProtocolException>(() => new MediaStreamParser().Read(Bytes(json), out _));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Equal(status, e.Status);
    }

    [Fact]
    public void Audio_up_to_the_limit_is_taken_and_more_closes_with_message_too_big()
    {
        var parser = new MediaStreamParser();
        var most = new byte[MediaStreamParser.MaxPayload - 2];
        Assert.Equal("media", parser.Read(Media(Convert.ToBase64String(most)), out var frame));
        Assert.Equal(most.Length, frame.Length);
        var tooMuch = Convert.ToBase64String(new byte[MediaStreamParser.MaxPayload + 3]);
        var e = Assert.Throws<MediaStreamProtocolException>(() => parser.Read(Media(tooMuch), out _));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, e.Status);
    }

    [Fact]
    public void Other_events_are_named_and_their_members_skipped()
    {
        var parser = new MediaStreamParser();
        Assert.Equal("connected", parser.Read(Bytes("""{"event":"connected","protocol":"Call","version":"1.0.0"}"""), out _));
        Assert.Equal("mark", parser.Read(Bytes("""{"event":"mark","mark":{"name":"x"},"sequenceNumber":"4"}"""), out _));
        Assert.Equal("stop", parser.Read(Bytes("""{"event":"stop","stop":{"accountSid":"AC1","callSid":"CA1"}}"""), out _));
        Assert.Equal("something-new", parser.Read(Bytes("""{"event":"something-new","data":[1,{"a":null}]}"""), out var frame));
        Assert.Equal(new MediaFrame(-1, -1, -1), frame);
    }

    [Fact]
    public void A_start_message_gives_the_call_format_tracks_custom_parameters_and_Twilio_account()
    {
        var start = MediaStreamParser.ParseStart(Bytes("""
            {"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ9","callSid":"CA7","tracks":["inbound","outbound"],
             "customParameters":{"Record":"false","Number":5},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ9"}
            """));
        Assert.Equal(("CA7", "MZ9", "audio/x-mulaw", 8000, 1, "AC1"), (start.CallSid, start.StreamSid, start.Encoding, start.SampleRate, start.Channels, start.AccountSid));
        Assert.Equal(["inbound", "outbound"], start.Tracks);
        Assert.Equal(new Dictionary<string, string> { ["Record"] = "false", ["Number"] = "5" }, start.CustomParameters);
        Assert.Null(MediaStreamParser.ParseStart(Bytes("""
            {"event":"start","start":{"streamSid":"MZ9","callSid":"CA7","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}
            """)).AccountSid);
    }

    [Theory]
    [InlineData("""{"event":"start","start":{"streamSid":"MZ1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}""")]
    [InlineData("""{"event":"start","start":{"callSid":"CA1","streamSid":"MZ1"}}""")]
    [InlineData("""{"event":"start","start":{"callSid":"CA1","streamSid":"MZ1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":"8000","channels":1}}}""")]
    [InlineData("""{"event":"start"}""")]
    public void A_start_message_that_is_not_Twilios_is_refused(string json)
    {
        var e = Assert.Throws<MediaStreamProtocolException>(() => MediaStreamParser.ParseStart(Bytes(json)));
        Assert.StartsWith("a start message that is not Twilio's", e.Message, StringComparison.Ordinal);
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, e.Status);
    }
}
