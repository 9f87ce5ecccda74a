using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Bounds on what one request may make the vault hold (docs/api.md §13): body sizes, form fields, header
/// sizes, JSON depth, uploads past their limit, and clients that send a byte a second — each
/// refused with a clear answer or cut off, while everyone else is served.
/// </summary>
public sealed class ResourceLimitTests
{
    private static StringContent Form(string body) => new(body, Encoding.ASCII, "application/x-www-form-urlencoded");

    [Fact]
    public async Task Bodies_forms_headers_and_json_past_their_bounds_are_refused_with_what_was_wrong()
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:MaxUploadBytes", "200000"]);
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var accounts = $"/2010-04-01/Accounts.json";

        // A 2 MiB form where a few fields are expected: 413 before it is parsed.
        var big = await http.PostAsync(accounts, Form("FriendlyName=" + new string('a', 2 << 20)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Equal(21617, JsonDocument.Parse(await big.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());

        // Ten thousand fields, one 100 KiB value, a key of 1 KiB: 400, saying which bound.
        foreach (var (body, says) in new[]
        {
            (string.Join('&', Enumerable.Range(0, 10_000).Select(i => $"f{i}=1")), "Form value count limit 100 exceeded"),
            ("FriendlyName=" + new string('b', 100 * 1024), "Form value length limit 65536 exceeded"),
            (new string('k', 1024) + "=1", "Form key length limit 256 exceeded"),
        })
        {
            var response = await http.PostAsync(accounts, Form(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(says, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // A body that is not a form, or a multipart one.
        var json = await http.PostAsync(accounts, new StringContent("{\"FriendlyName\":\"x\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Contains("application/x-www-form-urlencoded (got application/json", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var multipart = new MultipartFormDataContent { { new StringContent("x"), "FriendlyName" } };
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync(accounts, multipart)).StatusCode);
        // None of that made an account.
        Assert.Single(await Twilio.Rest.Api.V2010.AccountResource.ReadAsync(client: vault.Twilio()));

        // Headers past Kestrel's 32 KiB.
        using var headers = new HttpRequestMessage(HttpMethod.Get, accounts);
        headers.Headers.Add("X-Padding", new string('h', 40 * 1024));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await http.SendAsync(headers)).StatusCode);

        // The console's sign-in JSON nested a thousand deep: 400, not a stack dive.
        var nested = string.Concat(Enumerable.Repeat("{\"sid\":", 1000)) + "1" + new string('}', 1000);
        var signIn = await vault.Http().PostAsync("/console/session", new StringContent(nested, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, signIn.StatusCode);

        // An upload past MaxUploadBytes: 413, and no recording kept.
        var (status, body2) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(20));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(21617, body2.GetProperty("code").GetInt32());
        // ...while one within it is taken (uploads are the one large body).
        var (ok, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(5));
        Assert.Equal(HttpStatusCode.Created, ok);
    }

    [Fact]
    public async Task Clients_that_send_a_byte_a_second_are_cut_off_and_do_not_hold_up_anyone_else()
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Limits:RequestHeadersTimeoutSeconds", "2"]);
        var endpoint = new IPEndPoint(IPAddress.Loopback, vault.BaseUri.Port);
        using var stop = new CancellationTokenSource();

        // Slow headers: twenty connections, each a byte a second, never finishing the request line.
        var slowHeaders = Enumerable.Range(0, 20).Select(_ => Trickle(endpoint, "GET /2010-04-01/Accounts.json HTTP/1.1\r\nHost: vault\r\nX-Slow: " + new string('z', 100), stop.Token)).ToList();
        // A slow body: an upload whose headers arrive whole, then a byte a second.
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{vault.AccountSid}:{vault.AuthToken}"));
        var slowBody = Trickle(endpoint, $"PUT /v1/Ingest/Calls/{Audio.CallSid()}/Recording HTTP/1.1\r\nHost: vault\r\nAuthorization: Basic {auth}\r\nContent-Length: 100000\r\n\r\n",
            stop.Token, headersAtOnce: true, body: new string('r', 1000));

        // Meanwhile the vault answers everyone else at once.
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}.json")).StatusCode);

        // And it hangs up on each slow client: headers after their timeout, the body after the grace.
        var closed = await Task.WhenAll(slowHeaders);
        Assert.All(closed, c => Assert.True(c.ClosedByServer, "a slow-header connection was not closed by the vault"));
        Assert.All(closed, c => Assert.InRange(c.After.TotalSeconds, 1.5, 15));
        var body = await slowBody;
        Assert.True(body.ClosedByServer, "the slow body was not cut off");
        Assert.InRange(body.After.TotalSeconds, 4, 20);
        // Nothing of the slow upload was kept.
        Assert.Empty(await Twilio.Rest.Api.V2010.Account.RecordingResource.ReadAsync(client: vault.Twilio()));
        await stop.CancelAsync();
    }

    /// <summary>
    /// Sends <paramref name="text"/> a byte a second (or its headers at once, then <paramref name="body"/>
    /// a byte a second) until the vault closes the connection; when, and whether it did.
    /// </summary>
    private static async Task<(bool ClosedByServer, TimeSpan After)> Trickle(IPEndPoint endpoint, string text, CancellationToken stop, bool headersAtOnce = false, string body = "")
    {
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint, stop);
        var stream = client.GetStream();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            try
            {
                while (await stream.ReadAsync(buffer, stop) > 0)
                {
                    // A 4xx answer may come first; the close is what counts.
                }
            }
            catch (IOException)
            {
                // Reset by the vault: closed too.
            }
            return clock.Elapsed;
        }, stop);
        var bytes = Encoding.ASCII.GetBytes(headersAtOnce ? body : text);
        if (headersAtOnce)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(text), stop);
        }
        // The client's pace, a byte a second, is what is tested; it stops the moment the vault hangs up.
        using var pace = new PeriodicTimer(TimeSpan.FromSeconds(1));
        foreach (var b in bytes)
        {
            if (reading.IsCompleted)
            {
                break;
            }
            try
            {
                await stream.WriteAsync(new[] { b }, stop);
            }
            catch (IOException)
            {
                break;
            }
            await Task.WhenAny(reading, pace.WaitForNextTickAsync(stop).AsTask());
        }
        bool closed = reading.IsCompleted;
        return (closed, closed ? await reading : clock.Elapsed);
    }
}
