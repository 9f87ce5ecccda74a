using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Twilio.Rest.Api.V2010;
using Twilio.Security;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Real Twilio calls streaming in: a simulated Twilio opens the stream as Twilio does — the path
/// form, no query string, no Basic credentials, the upgrade signed by Twilio's own
/// <see cref="RequestValidator"/> algorithm with the <em>Twilio</em> account's token, which is none
/// of the vault's tokens — behind a proxy whose public URL is not the vault's local one.
/// </summary>
public sealed class TwilioLinkTests : IAsyncLifetime
{
    private const string PublicBase = "vault.example.com";
    private VaultServer _vault = null!;
    private AccountResource _sub = null!;
    private readonly string _twilioAccount = Sid("AC");
    private readonly string _twilioToken = Token();
    private readonly string _twilioSecondaryToken = Token();

    public async Task InitializeAsync()
    {
        _vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:PublicBaseUrl", $"https://{PublicBase}"]);
        _sub = await AccountResource.CreateAsync(friendlyName: "calls from Twilio", client: _vault.Twilio());
        Assert.Equal(HttpStatusCode.Created, (await LinkAsync(_sub.Sid, _twilioAccount, _twilioToken, _twilioSecondaryToken)).StatusCode);
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private static string Sid(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static string Token() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private string StreamPath(string accountSid) => $"/v1/Ingest/MediaStream/{accountSid}";

    // What Twilio's helper libraries compute for a request with no POST parameters: HMAC-SHA1 over the URL.
    private static string TwilioSigns(string token, string url)
    {
        var signature = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(url)));
        Assert.True(new RequestValidator(token).Validate(url, new Dictionary<string, string>(), signature)); // the SDK agrees
        return signature;
    }

    private async Task<HttpResponseMessage> LinkAsync(string accountSid, string twilioAccount, string token, string? secondary = null, (string, string)? as_ = null)
    {
        var (user, password) = as_ ?? (_vault.AccountSid, _vault.AuthToken);
        using var http = _vault.Http(user, password);
        var form = new Dictionary<string, string> { ["TwilioAccountSid"] = twilioAccount, ["TwilioAuthToken"] = token };
        if (secondary is not null)
        {
            form["TwilioSecondaryAuthToken"] = secondary;
        }
        return await http.PostAsync($"/v1/Accounts/{accountSid}/TwilioLink", new FormUrlEncodedContent(form));
    }

    private Task<MediaStream> OpenAsync(string signature, string? accountSid = null, string? twilioAccount = null) =>
        MediaStream.ConnectAsTwilioAsync(_vault.BaseUri, accountSid ?? _sub.Sid, signature, twilioAccount ?? _twilioAccount);

    private async Task<JsonElement[]> RecordingsOfAsync(string callSid)
    {
        using var http = _vault.Http(_vault.AccountSid, _vault.AuthToken);
        var list = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{_sub.Sid}/Calls/{callSid}/Recordings.json")).RootElement;
        return list.GetProperty("recordings").EnumerateArray().Select(r => r.Clone()).ToArray();
    }

    [Theory]
    [InlineData("wss", "primary")]
    [InlineData("https", "primary")]
    [InlineData("wss", "secondary")]
    public async Task A_call_Twilio_streams_is_recorded_under_the_linked_account_with_its_call_SID_and_decrypts_to_the_audio_sent(string scheme, string token)
    {
        using var rsa = (await _vault.EnableEncryptionAsync(_sub.Sid)).Key;
        var signature = TwilioSigns(token == "primary" ? _twilioToken : _twilioSecondaryToken, $"{scheme}://{PublicBase}{StreamPath(_sub.Sid)}");
        await using var stream = await OpenAsync(signature);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, stream.HandshakeStatus);
        await stream.StartAsync(new() { ["RecordingChannels"] = "dual" });
        var inbound = new Dictionary<long, byte[]>();
        var outbound = new Dictionary<long, byte[]>();
        for (long ts = 0; ts < 1000; ts += 20)
        {
            await stream.MediaAsync("inbound", ts, inbound[ts] = MediaStream.Frame());
            await stream.MediaAsync("outbound", ts, outbound[ts] = MediaStream.Frame());
        }
        await stream.StopAsync();

        var (recording, wav) = await _vault.FetchAndDecryptAsync(stream.CallSid, rsa, _sub.Sid);
        Assert.Equal(_sub.Sid, recording.GetProperty("account_sid").GetString());
        Assert.Equal(stream.CallSid, recording.GetProperty("call_sid").GetString()); // Twilio's call: REST control and callbacks line up
        Assert.Equal(LiveRecordingTests.Expected(inbound, outbound, 2), wav);
    }

    [Fact]
    public async Task Unsigned_forged_misdirected_or_unlinked_streams_are_refused_at_the_handshake()
    {
        var url = $"wss://{PublicBase}{StreamPath(_sub.Sid)}";
        var sibling = await AccountResource.CreateAsync(friendlyName: "sibling", client: _vault.Twilio());
        var refused = new Dictionary<string, string?>
        {
            ["unsigned"] = null,
            ["a wrong token"] = TwilioSigns(Token(), url),
            ["the vault account's own token"] = TwilioSigns(_sub.AuthToken, url),
            ["another URL"] = TwilioSigns(_twilioToken, $"wss://{PublicBase}{StreamPath(sibling.Sid)}"),
            ["another host"] = TwilioSigns(_twilioToken, $"wss://attacker.example.com{StreamPath(_sub.Sid)}"),
            ["a query string the request lacks"] = TwilioSigns(_twilioToken, url + "?AccountSid=" + _sub.Sid),
            ["not base64"] = "not a signature",
        };
        foreach (var (why, signature) in refused)
        {
            await using var stream = await OpenAsync(signature!);
            Assert.True(stream.HandshakeStatus == HttpStatusCode.Unauthorized, $"{why}: {stream.HandshakeStatus}");
        }
        // The right signature for an account that has no link (the sibling) is refused too…
        await using (var unlinked = await OpenAsync(TwilioSigns(_twilioToken, $"wss://{PublicBase}{StreamPath(sibling.Sid)}"), sibling.Sid))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unlinked.HandshakeStatus);
        }
        // …and so is a good signature once the link is removed.
        await using (var before = await OpenAsync(TwilioSigns(_twilioToken, url)))
        {
            Assert.Equal(HttpStatusCode.SwitchingProtocols, before.HandshakeStatus);
        }
        using var http = _vault.Http(_sub.Sid, _sub.AuthToken);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/Accounts/{_sub.Sid}/TwilioLink")).StatusCode);
        await using var after = await OpenAsync(TwilioSigns(_twilioToken, url));
        Assert.Equal(HttpStatusCode.Unauthorized, after.HandshakeStatus);
    }

    [Fact]
    public async Task A_stream_whose_start_names_another_Twilio_account_is_closed_before_any_audio_and_the_account_is_told()
    {
        var other = Sid("AC");
        await using var stream = await OpenAsync(TwilioSigns(_twilioToken, $"wss://{PublicBase}{StreamPath(_sub.Sid)}"), twilioAccount: other);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, stream.HandshakeStatus);
        await stream.StartAsync();
        await stream.MediaAsync("inbound", 0, MediaStream.Frame()).ContinueWith(_ => { }); // may already be closed
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await stream.WaitClosedAsync());

        Assert.Empty(await RecordingsOfAsync(stream.CallSid));
        using var http = _vault.Http(_sub.Sid, _sub.AuthToken);
        var notifications = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{_sub.Sid}/Notifications.json")).RootElement.GetProperty("notifications");
        var notification = Assert.Single(notifications.EnumerateArray());
        Assert.Equal("20403", notification.GetProperty("error_code").GetString());
        Assert.Equal(stream.CallSid, notification.GetProperty("call_sid").GetString());
        var text = notification.GetProperty("message_text").GetString()!;
        Assert.Contains(other, text, StringComparison.Ordinal);
        Assert.Contains(_twilioAccount, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_link_answers_its_SID_and_dates_and_never_a_token_and_relinking_replaces_it()
    {
        using var http = _vault.Http(_sub.Sid, _sub.AuthToken);
        var body = await http.GetStringAsync($"/v1/Accounts/{_sub.Sid}/TwilioLink");
        var link = JsonDocument.Parse(body).RootElement;
        Assert.Equal(_sub.Sid, link.GetProperty("account_sid").GetString());
        Assert.Equal(_twilioAccount, link.GetProperty("twilio_account_sid").GetString());
        Assert.Equal($"/v1/Accounts/{_sub.Sid}/TwilioLink", link.GetProperty("url").GetString());
        Assert.DoesNotContain(_twilioToken, body, StringComparison.Ordinal);
        Assert.DoesNotContain(_twilioSecondaryToken, body, StringComparison.Ordinal);

        // Rotation done: relink with the new primary only; the old one and the secondary stop working.
        var rotated = Token();
        var relink = await LinkAsync(_sub.Sid, _twilioAccount, rotated, as_: (_sub.Sid, _sub.AuthToken));
        Assert.Equal(HttpStatusCode.OK, relink.StatusCode);
        var relinked = JsonDocument.Parse(await relink.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(link.GetProperty("date_created").GetString(), relinked.GetProperty("date_created").GetString());
        var url = $"wss://{PublicBase}{StreamPath(_sub.Sid)}";
        foreach (var (token, expected) in new[] { (rotated, HttpStatusCode.SwitchingProtocols), (_twilioToken, HttpStatusCode.Unauthorized), (_twilioSecondaryToken, HttpStatusCode.Unauthorized) })
        {
            await using var stream = await OpenAsync(TwilioSigns(token, url));
            Assert.Equal(expected, stream.HandshakeStatus);
        }
    }

    [Theory]
    [InlineData("TwilioAccountSid", "CA0123456789abcdef0123456789abcdef", "TwilioAccountSid")]
    [InlineData("TwilioAuthToken", "", "TwilioAuthToken is required")]
    [InlineData("TwilioAuthToken", "SKsecretsecretsecretsecretsecret0", "TwilioAuthToken must be a Twilio auth token")]
    [InlineData("TwilioSecondaryAuthToken", "0123456789abcdef0123456789abcde ", "TwilioSecondaryAuthToken must be a Twilio auth token")]
    public async Task A_bad_link_is_refused_with_what_was_wrong_and_the_old_link_is_kept(string field, string value, string message)
    {
        using var http = _vault.Http(_sub.Sid, _sub.AuthToken);
        var form = new Dictionary<string, string> { ["TwilioAccountSid"] = Sid("AC"), ["TwilioAuthToken"] = Token(), [field] = value };
        var answer = await http.PostAsync($"/v1/Accounts/{_sub.Sid}/TwilioLink", new FormUrlEncodedContent(form));
        var body = await answer.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains(message, body, StringComparison.Ordinal);
        if (value.Length > 0)
        {
            Assert.DoesNotContain(value.Trim(), body, StringComparison.Ordinal); // what was given is never echoed
        }
        var link = JsonDocument.Parse(await http.GetStringAsync($"/v1/Accounts/{_sub.Sid}/TwilioLink")).RootElement;
        Assert.Equal(_twilioAccount, link.GetProperty("twilio_account_sid").GetString());
    }

    [Fact]
    public async Task A_sibling_can_neither_read_nor_change_nor_remove_a_subaccounts_link()
    {
        var sibling = await AccountResource.CreateAsync(friendlyName: "sibling", client: _vault.Twilio());
        using var asSibling = _vault.Http(sibling.Sid, sibling.AuthToken);
        var path = $"/v1/Accounts/{_sub.Sid}/TwilioLink";
        Assert.Equal(HttpStatusCode.NotFound, (await asSibling.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await LinkAsync(_sub.Sid, Sid("AC"), Token(), as_: (sibling.Sid, sibling.AuthToken))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await asSibling.DeleteAsync(path)).StatusCode);
        // Nor open a stream for it with its own credentials.
        await using (var stream = new ClientWebSocketProbe())
        {
            Assert.NotEqual(HttpStatusCode.SwitchingProtocols, await stream.OpenAsync(new Uri($"ws://{_vault.BaseUri.Authority}{StreamPath(_sub.Sid)}"), sibling.Sid, sibling.AuthToken));
        }
        // Its parent may (Basic credentials, as on every endpoint).
        await using (var stream = new ClientWebSocketProbe())
        {
            Assert.Equal(HttpStatusCode.SwitchingProtocols, await stream.OpenAsync(new Uri($"ws://{_vault.BaseUri.Authority}{StreamPath(_sub.Sid)}"), _vault.AccountSid, _vault.AuthToken));
        }
        // The link is as it was.
        using var asParent = _vault.Http(_vault.AccountSid, _vault.AuthToken);
        var link = JsonDocument.Parse(await asParent.GetStringAsync(path)).RootElement;
        Assert.Equal(_twilioAccount, link.GetProperty("twilio_account_sid").GetString());
    }

    [Fact]
    public async Task The_linked_tokens_are_nowhere_in_the_data_folder_or_the_logs()
    {
        // Use the link every way: streams that verify, one that does not, a relink, a refused relink.
        var url = $"wss://{PublicBase}{StreamPath(_sub.Sid)}";
        await using (var good = await OpenAsync(TwilioSigns(_twilioToken, url)))
        {
            await good.StartAsync();
            await good.StopAsync();
        }
        await using (var bad = await OpenAsync(TwilioSigns(_twilioToken, url + "x")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, bad.HandshakeStatus);
        }
        var third = Token();
        Assert.Equal(HttpStatusCode.OK, (await LinkAsync(_sub.Sid, _twilioAccount, _twilioToken, third)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await LinkAsync(_sub.Sid, _twilioAccount, third + "zz")).StatusCode);

        var markers = new[] { _twilioToken, _twilioSecondaryToken, third }
            .SelectMany(t => new[] { Encoding.UTF8.GetBytes(t), Encoding.Unicode.GetBytes(t), Convert.FromHexString(t) }).ToArray();
        foreach (var (path, content) in _vault.DataFiles())
        {
            foreach (var marker in markers)
            {
                Assert.True(content.AsSpan().IndexOf(marker) < 0, $"a linked token is in {path}");
            }
        }
        foreach (var line in _vault.Logs)
        {
            Assert.DoesNotContain(_twilioToken, line, StringComparison.Ordinal);
            Assert.DoesNotContain(_twilioSecondaryToken, line, StringComparison.Ordinal);
            Assert.DoesNotContain(third, line, StringComparison.Ordinal);
        }
    }

    /// <summary>A WebSocket handshake with Basic credentials, for the answer's status only.</summary>
    private sealed class ClientWebSocketProbe : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();

        public async Task<HttpStatusCode> OpenAsync(Uri url, string user, string password)
        {
            _socket.Options.CollectHttpResponseDetails = true;
            _socket.Options.SetRequestHeader("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            try
            {
                await _socket.ConnectAsync(url, CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
            return _socket.HttpStatusCode;
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
