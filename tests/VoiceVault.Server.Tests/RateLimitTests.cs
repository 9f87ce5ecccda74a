using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Guessing and hogging (docs/api.md §13): a burst of wrong passwords from one address ends in 429s with
/// Retry-After while the right password from another address still works; the console's sign-in
/// is held to the same limits; X-Forwarded-For counts only from a trusted proxy; one account's
/// uploads and live streams are capped, with a clear answer, without touching another account.
/// </summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task A_burst_of_wrong_passwords_from_one_address_is_answered_429_while_the_right_one_from_another_address_works()
    {
        await using var vault = await VaultServer.StartAsync();
        var path = $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json";
        var guesses = Enumerable.Range(0, 100).Select(i => $"guess-{i:d3}-5eed").ToList();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        foreach (var guess in guesses)
        {
            using var http = TestHttp.From(IPAddress.Loopback, vault.BaseUri, vault.AccountSid, guess);
            last?.Dispose();
            last = await http.GetAsync(path);
            statuses.Add(last.StatusCode);
        }
        // The address's bucket (10 by default) is spent on the first guesses; the rest are not even checked.
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(90, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.All(statuses.Take(10), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.True(int.Parse(last!.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        var body = JsonDocument.Parse(await last.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(20429, body.GetProperty("code").GetInt32());
        Assert.Equal(429, body.GetProperty("status").GetInt32());
        // The right password from the same address waits too: a guesser learns nothing from it.
        using (var same = TestHttp.From(IPAddress.Loopback, vault.BaseUri, vault.AccountSid, vault.AuthToken))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, (await same.GetAsync(path)).StatusCode);
        }
        // From another address it works at once.
        using (var other = TestHttp.From(IPAddress.Parse("127.0.0.2"), vault.BaseUri, vault.AccountSid, vault.AuthToken))
        {
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync(path)).StatusCode);
        }
        var log = string.Join("\n", vault.Logs);
        Assert.DoesNotContain(guesses, g => log.Contains(g, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Guesses_spread_over_many_addresses_run_into_the_accounts_own_limit()
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Limits:FailedAuthenticationsPerAccount", "30"]);
        var path = $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json";
        // The owner works from 127.0.0.1 (the SDK client), before anyone guesses.
        var sub = await Twilio.Rest.Api.V2010.AccountResource.CreateAsync(friendlyName: "other", client: vault.Twilio());
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 40; i++)
        {
            // Four guesses from each of ten addresses: never more than the address limit from one.
            using var http = TestHttp.From(IPAddress.Parse($"127.0.1.{1 + i / 4}"), vault.BaseUri, vault.AccountSid, $"wrong-{i}");
            statuses.Add((await http.GetAsync(path)).StatusCode);
        }
        Assert.Equal(30, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        // A new address waits, even with the right password; where the owner already works, it works.
        using (var newcomer = TestHttp.From(IPAddress.Parse("127.0.3.1"), vault.BaseUri, vault.AccountSid, vault.AuthToken))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, (await newcomer.GetAsync(path)).StatusCode);
        }
        using (var owner = TestHttp.From(IPAddress.Loopback, vault.BaseUri, vault.AccountSid, vault.AuthToken))
        {
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(path)).StatusCode);
        }
        // Another account is untouched by it.
        using var fresh = TestHttp.From(IPAddress.Parse("127.0.2.1"), vault.BaseUri, sub.Sid, sub.AuthToken);
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync($"/2010-04-01/Accounts/{sub.Sid}/Recordings.json")).StatusCode);
    }

    [Fact]
    public async Task The_consoles_sign_in_is_held_to_the_same_limit()
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = TestHttp.Client(vault.BaseUri);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (int i = 0; i < 15; i++)
        {
            last?.Dispose();
            last = await http.PostAsync("/console/session", new StringContent(JsonSerializer.Serialize(new { sid = vault.AccountSid, secret = $"nope-{i}" }), Encoding.UTF8, "application/json"));
            statuses.Add(last.StatusCode);
        }
        Assert.True(10 == statuses.Count(s => s == HttpStatusCode.Unauthorized), await last!.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.TooManyRequests, last!.StatusCode);
        Assert.True(last.Headers.Contains("Retry-After"));
        Assert.Contains("20429", await last.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The API's Basic auth from the same address shares the bucket.
        using var api = TestHttp.Client(vault.BaseUri, vault.AccountSid, vault.AuthToken);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await api.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}.json")).StatusCode);
    }

    [Fact]
    public async Task Forwarded_addresses_count_only_from_a_trusted_proxy()
    {
        var path = "/2010-04-01/Accounts.json";
        async Task<List<HttpStatusCode>> GuessAsync(VaultServer vault, Func<int, string> forwardedFor)
        {
            var statuses = new List<HttpStatusCode>();
            for (int i = 0; i < 12; i++)
            {
                using var http = TestHttp.Client(vault.BaseUri, vault.AccountSid, $"wrong-{i}");
                http.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor(i));
                statuses.Add((await http.GetAsync(path)).StatusCode);
            }
            return statuses;
        }
        // Untrusted: a client that makes up a new X-Forwarded-For each time is still one address.
        await using (var vault = await VaultServer.StartAsync())
        {
            var statuses = await GuessAsync(vault, i => $"198.51.100.{i}");
            Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        }
        // Behind a trusted proxy (here, loopback): the forwarded address is the client's.
        await using (var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:TrustedProxies", "127.0.0.1"]))
        {
            Assert.DoesNotContain(HttpStatusCode.TooManyRequests, await GuessAsync(vault, i => $"198.51.100.{i}"));
            var one = await GuessAsync(vault, _ => "203.0.113.9");
            Assert.Equal(HttpStatusCode.TooManyRequests, one[^1]);
        }
    }

    [Fact]
    public async Task An_accounts_uploads_and_streams_in_progress_are_capped_without_touching_another_account()
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Limits:ConcurrentUploadsPerAccount", "2", "--VoiceVault:Limits:ConcurrentStreamsPerAccount", "1"]);
        var sub = await Twilio.Rest.Api.V2010.AccountResource.CreateAsync(friendlyName: "neighbour", client: vault.Twilio());
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var wav = Audio.Wav(10);
        var held = new[] { new HeldUpload(http, $"/v1/Ingest/Calls/{Audio.CallSid()}/Recording"), new HeldUpload(http, $"/v1/Ingest/Calls/{Audio.CallSid()}/Recording") };
        foreach (var upload in held)
        {
            await upload.SendAsync(wav.AsMemory(0, 70_000));
        }
        await Eventually.TrueAsync(async () => (await Twilio.Rest.Api.V2010.Account.RecordingResource.ReadAsync(client: vault.Twilio())).Count(r => r.Status.ToString() == "processing") == 2,
            "two uploads in progress");

        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal(20429, body.GetProperty("code").GetInt32());
        Assert.Contains("already has 2 uploads in progress", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        (status, _) = await vault.UploadAsync(sub.Sid, sub.AuthToken, Audio.CallSid(), wav);
        Assert.Equal(HttpStatusCode.Created, status);

        Assert.Equal(HttpStatusCode.Created, (await held[0].FinishAsync(wav.AsMemory(70_000))).Status);
        (status, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(HttpStatusCode.Created, (await held[1].FinishAsync(wav.AsMemory(70_000))).Status);

        // One live stream at a time for this account: the second handshake is refused with 429.
        await using var first = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        using var second = new System.Net.WebSockets.ClientWebSocket();
        second.Options.CollectHttpResponseDetails = true;
        second.Options.SetRequestHeader("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{vault.AccountSid}:{vault.AuthToken}")));
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => second.ConnectAsync(new Uri($"ws://{vault.BaseUri.Authority}/v1/Ingest/MediaStream"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.HttpStatusCode);
        await using var neighbours = await MediaStream.ConnectAsync(vault, sub.Sid, sub.AuthToken);
    }
}
