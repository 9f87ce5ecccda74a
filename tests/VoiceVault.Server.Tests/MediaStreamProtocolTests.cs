using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoiceVault.Server.Webhooks;

namespace VoiceVault.Server.Tests;

/// <summary>Bad streams end with a clear log line and the right status; one bad stream never touches another.</summary>
public sealed class MediaStreamProtocolTests
{
    private static async Task<JsonElement[]> RecordingsOfAsync(VaultServer vault, string callSid)
    {
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var list = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Calls/{callSid}/Recordings.json")).RootElement;
        return list.GetProperty("recordings").EnumerateArray().Select(r => r.Clone()).ToArray();
    }

    [Theory]
    [InlineData("{\"event\":\"media\",\"media\":{\"track\":\"inbound\"", "malformed JSON", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("[1,2,3]", "not a JSON object", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("{\"event\":\"media\",\"media\":{\"track\":\"sideways\",\"timestamp\":\"40\",\"payload\":\"AAAA\"}}", "is not inbound or outbound", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("{\"event\":\"media\",\"media\":{\"track\":\"inbound\",\"timestamp\":\"40\",\"payload\":\"%%%\"}}", "not base64", WebSocketCloseStatus.InvalidPayloadData)]
    public async Task A_broken_message_ends_the_call_keeping_what_was_recorded_and_leaves_other_calls_alone(string bad, string logged, WebSocketCloseStatus status)
    {
        await using var vault = await VaultServer.StartAsync();
        await using var good = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await using var broken = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await good.StartAsync();
        await broken.StartAsync();
        var frame = MediaStream.Frame();
        await good.MediaAsync("inbound", 0, frame);
        await broken.MediaAsync("inbound", 0, frame);
        await broken.SendRawAsync("{\"event\":\"mark\",\"mark\":{\"name\":\"x\"}}"); // Twilio's own extra events are fine
        await broken.SendRawAsync("{\"event\":\"something-new\"}");
        await broken.SendRawAsync(bad);
        Assert.Equal(status, await broken.WaitClosedAsync());

        await good.MediaAsync("inbound", 20, frame);
        await good.StopAsync();
        Assert.Equal("completed", Assert.Single(await RecordingsOfAsync(vault, good.CallSid)).GetProperty("status").GetString());
        var cut = Assert.Single(await RecordingsOfAsync(vault, broken.CallSid));
        Assert.Equal("completed", cut.GetProperty("status").GetString());
        Assert.Contains(vault.Logs, l => l.Contains(logged, StringComparison.Ordinal) && l.Contains("closing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Large_starts_and_frames_are_taken_and_messages_over_the_limits_end_the_call()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        // A start of about 4 KiB (custom parameters are the caller's own) and 200 ms frames (1,600 bytes each).
        await stream.StartAsync(Enumerable.Range(0, 40).ToDictionary(i => $"Context{i}", i => new string('x', 80)));
        for (int i = 0; i < 5; i++)
        {
            await stream.MediaAsync("inbound", i * 200, Enumerable.Repeat(MediaStream.Frame(), 10).SelectMany(f => f).ToArray());
        }
        await vault.WaitForFramesAsync(5);
        await stream.SendRawAsync("{\"event\":\"mark\",\"mark\":{\"name\":\"" + new string('m', 20 * 1024) + "\"}}");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await stream.WaitClosedAsync());
        var recording = Assert.Single(await RecordingsOfAsync(vault, stream.CallSid));
        Assert.Equal("completed", recording.GetProperty("status").GetString());
        Assert.Equal("1", recording.GetProperty("duration").GetString()); // all five frames recorded
        Assert.Contains(vault.Logs, l => l.Contains("a message is larger than 16 KiB", StringComparison.Ordinal));

        await using var big = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await big.StartAsync();
        await big.MediaAsync("inbound", 0, new byte[9 * 1024]);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await big.WaitClosedAsync());
        Assert.Contains(vault.Logs, l => l.Contains("media.payload is larger than 8 KiB", StringComparison.Ordinal));
        Assert.Equal("absent", Assert.Single(await RecordingsOfAsync(vault, big.CallSid)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_wrong_media_format_is_refused_before_any_recording_exists()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync(encoding: "audio/l16");
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await stream.WaitClosedAsync());
        Assert.Empty(await RecordingsOfAsync(vault, stream.CallSid));
        Assert.Contains(vault.Logs, l => l.Contains("audio/l16", StringComparison.Ordinal) && l.Contains("not supported", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_start_with_an_unknown_Trim_is_refused()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync(new() { ["Trim"] = "trim-everything" });
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await stream.WaitClosedAsync());
        Assert.Empty(await RecordingsOfAsync(vault, stream.CallSid));
        Assert.Contains(vault.Logs, l => l.Contains("Trim must be trim-silence or do-not-trim", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Media_before_start_is_a_protocol_error()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.MediaAsync("inbound", 0, MediaStream.Frame());
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await stream.WaitClosedAsync());
        Assert.Contains(vault.Logs, l => l.Contains("media message before start", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stream_that_closes_without_stop_or_sends_no_audio_ends_completed_or_absent()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        await using (var closed = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken))
        {
            await closed.StartAsync(new() { ["RecordingStatusCallback"] = receiver.Url });
            await closed.MediaAsync("outbound", 0, MediaStream.Frame());
            await vault.WaitForFramesAsync(1);
            await closed.DisposeAsync(); // the connection drops: no stop, no close handshake
            var callback = Assert.Single(await receiver.WaitForAsync(1));
            Assert.Equal("completed", callback.Parameters["RecordingStatus"]);
            Assert.Equal(closed.CallSid, callback.Parameters["CallSid"]);
        }
        await using var silent = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await silent.StartAsync(new() { ["RecordingStatusCallback"] = receiver.Url, ["RecordingStatusCallbackEvent"] = "absent completed" });
        await silent.StopAsync();
        var absent = (await receiver.WaitForAsync(2)).Last();
        Assert.Equal("absent", absent.Parameters["RecordingStatus"]);
        Assert.Equal("absent", Assert.Single(await RecordingsOfAsync(vault, silent.CallSid)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Calls_past_the_maximum_length_are_completed_at_the_limit()
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:MaxCallSeconds", "1"]);
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync();
        for (int i = 0; i < 60; i++)
        {
            await stream.MediaAsync("inbound", i * 20, MediaStream.Frame());
        }
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await stream.WaitClosedAsync());
        var recording = Assert.Single(await RecordingsOfAsync(vault, stream.CallSid));
        Assert.Equal("completed", recording.GetProperty("status").GetString());
        Assert.Equal("1", recording.GetProperty("duration").GetString());
        Assert.Contains(vault.Logs, l => l.Contains("maximum call length", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stalled_stream_is_ended_after_the_idle_timeout()
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:StreamIdleSeconds", "1"]);
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync();
        await stream.MediaAsync("inbound", 0, MediaStream.Frame());
        await stream.WaitClosedAsync(); // a stalled peer is dropped (a cancelled WebSocket read aborts the connection)
        await Eventually.TrueAsync(() => vault.Logs.Any(l => l.Contains("ended: no message for 1 s", StringComparison.Ordinal)), "the idle stream is ended and logged");
        Assert.Equal("completed", Assert.Single(await RecordingsOfAsync(vault, stream.CallSid)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_signed_stream_in_the_query_form_verifies_with_the_linked_Twilio_token_and_never_with_a_vault_token()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await Twilio.Rest.Api.V2010.AccountResource.CreateAsync(friendlyName: "other", client: vault.Twilio());
        var twilioToken = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        using (var http = vault.Http(vault.AccountSid, vault.AuthToken))
        {
            (await http.PostAsync($"/v1/Accounts/{vault.AccountSid}/TwilioLink", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["TwilioAccountSid"] = "AC" + new string('7', 32),
                ["TwilioAuthToken"] = twilioToken,
            }))).EnsureSuccessStatusCode();
        }
        var query = $"?AccountSid={vault.AccountSid}";
        var signedUrl = $"ws://127.0.0.1:5080{MediaStreamEndpointPath}{query}"; // the default PublicBaseUrl, as ws://
        async Task<HttpStatusCode?> OpenAsync(string? signature)
        {
            using var socket = new ClientWebSocket();
            if (signature is not null)
            {
                socket.Options.SetRequestHeader("X-Twilio-Signature", signature);
            }
            socket.Options.CollectHttpResponseDetails = true;
            try
            {
                await socket.ConnectAsync(new Uri($"ws://{vault.BaseUri.Authority}{MediaStreamEndpointPath}{query}"), CancellationToken.None);
                return socket.HttpStatusCode;
            }
            catch (WebSocketException)
            {
                return socket.HttpStatusCode;
            }
        }
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await OpenAsync(Core.TwilioSignature.Sign(twilioToken, signedUrl, [])));
        Assert.Equal(HttpStatusCode.Unauthorized, await OpenAsync(null));
        Assert.Equal(HttpStatusCode.Unauthorized, await OpenAsync(Core.TwilioSignature.Sign(vault.AuthToken, signedUrl, []))); // the vault account's own token
        Assert.Equal(HttpStatusCode.Unauthorized, await OpenAsync(Core.TwilioSignature.Sign(sub.AuthToken, signedUrl, []))); // another account's token
        Assert.Equal(HttpStatusCode.Unauthorized, await OpenAsync(Core.TwilioSignature.Sign(twilioToken, signedUrl + "&x=1", []))); // signed for another URL
        Assert.Equal(HttpStatusCode.Unauthorized, await OpenAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes("not a signature"))));
    }

    private const string MediaStreamEndpointPath = "/v1/Ingest/MediaStream";
}
