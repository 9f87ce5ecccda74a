using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Twilio.Rest.Api.V2010.Account;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Tests;

/// <summary>
/// A tenant chooses the URLs the vault calls (docs/api.md §13): callbacks never reach the vault's own
/// network — not by an IP literal in any spelling, not by a host name that resolves there, not by
/// a redirect — unless an allowed network says so; credentials in a callback URL go to the
/// receiver as Basic auth and nowhere else; a refused delivery says why and is not retried.
/// </summary>
public sealed class WebhookSafetyTests
{
    private static readonly string[] NoNetworks = ["--VoiceVault:Webhooks:AllowedNetworks", ""];

    private static async Task<List<NotificationResource>> NotificationsAsync(VaultServer vault) =>
        [.. await NotificationResource.ReadAsync(client: vault.Twilio())];

    [Theory]
    [InlineData("http://127.0.0.1:9/hook", "127.0.0.1 is a loopback address")]
    [InlineData("http://2130706433/hook", "127.0.0.1 is a loopback address")]
    [InlineData("http://0177.0.0.1/hook", "127.0.0.1 is a loopback address")]
    [InlineData("http://0x7f.0.0.1/hook", "127.0.0.1 is a loopback address")]
    [InlineData("http://10.20.30.40/hook", "a private (RFC 1918) address")]
    [InlineData("http://172.16.5.4/hook", "a private (RFC 1918) address")]
    [InlineData("https://192.168.0.10/hook", "a private (RFC 1918) address")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "a link-local address (where cloud metadata services live)")]
    [InlineData("http://100.64.1.1/hook", "carrier-grade NAT")]
    [InlineData("http://0.0.0.0/hook", "unspecified")]
    [InlineData("http://224.0.0.251/hook", "a multicast address")]
    [InlineData("http://[::1]/hook", "::1 is a loopback address")]
    [InlineData("http://[fd12:3456::1]/hook", "a unique local (private IPv6) address")]
    [InlineData("http://[fe80::1]/hook", "a link-local address")]
    [InlineData("http://[::ffff:127.0.0.1]/hook", "carries 127.0.0.1, which is a loopback address")]
    [InlineData("http://[::ffff:169.254.169.254]/hook", "carries 169.254.169.254")]
    [InlineData("http://[64:ff9b::a00:1]/hook", "carries 10.0.0.1, which is a private (RFC 1918) address")]
    [InlineData("https://user:hunter2@127.0.0.1/hook", "127.0.0.1 is a loopback address")]
    [InlineData("ftp://user:hunter2@example.com/hook", "is not an absolute http or https URL (its scheme is ftp)")]
    [InlineData("file:///etc/passwd", "is not an absolute http or https URL")]
    [InlineData("/relative/hook", "is not an absolute http or https URL")]
    // Found by bench/fuzz.sh (query-string, form-body): a host IDNA refuses made Uri.IdnHost throw, a 500.
    [InlineData("http://2\uFFFD\u079E\uFFFD\uFFFD130706433/", "is not an absolute http or https URL")]
    public async Task A_callback_url_the_vault_does_not_call_is_refused_at_the_api_and_nothing_is_stored(string url, string why)
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: NoNetworks);
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1),
            "RecordingStatusCallback=" + Uri.EscapeDataString(url));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(21609, body.GetProperty("code").GetInt32());
        var message = body.GetProperty("message").GetString()!;
        Assert.Contains(why, message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", body.GetRawText(), StringComparison.Ordinal);
        Assert.Empty(await Twilio.Rest.Api.V2010.Account.RecordingResource.ReadAsync(client: vault.Twilio()));
        // The same rule for a live recording started by the API.
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var started = await http.PostAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Calls/{Audio.CallSid()}/Recordings.json",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["RecordingStatusCallback"] = url }));
        Assert.Equal(HttpStatusCode.BadRequest, started.StatusCode);
        Assert.Contains("21609", await started.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_name_that_resolves_to_the_vaults_own_network_is_refused_when_connecting_said_in_a_notification_and_not_retried()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        await using var vault = await VaultServer.StartAsync(extraArgs: NoNetworks);
        int port = new Uri(receiver.Url).Port;
        // localhost (loopback by /etc/hosts) and this machine's own name (127.0.1.1 on Debian, or its
        // interface's private address): names the API cannot judge, the connection can.
        var names = new[] { "localhost", Dns.GetHostName() };
        foreach (var name in names)
        {
            var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1),
                "RecordingStatusCallback=" + Uri.EscapeDataString($"http://{name}:{port}/callbacks"));
            Assert.Equal(HttpStatusCode.Created, status);
        }
        await Eventually.TrueAsync(async () => (await NotificationsAsync(vault)).Count(n => n.ErrorCode == "11200") == names.Length, "a notification per refused callback");
        foreach (var notification in await NotificationsAsync(vault))
        {
            Assert.True(notification.Log == "0", notification.MessageText); // error: nothing more will be tried
            Assert.Contains("which the vault does not call", notification.MessageText, StringComparison.Ordinal);
            Assert.Contains("not retried", notification.MessageText, StringComparison.Ordinal);
        }
        Assert.Contains(await NotificationsAsync(vault), n => n.MessageText.Contains("localhost resolves to 127.0.0.1 is a loopback address", StringComparison.Ordinal));
        Assert.Empty(receiver.Requests);
        // Not due again, however long one waits: nothing is left for a day from now.
        var outbox = vault.Services.GetRequiredService<IOutboxStore>();
        var later = DateTimeOffset.UtcNow.AddDays(2);
        Assert.Empty(await outbox.ClaimDueAsync(later, later.AddMinutes(1), 100));
    }

    [Fact]
    public async Task An_allowed_network_is_called_but_a_redirect_from_it_to_another_address_is_not_followed()
    {
        // The second receiver listens on 127.0.0.2: loopback too, but outside the one allowed address.
        var elsewhere = new ConcurrentQueue<string>();
        await using var blocked = await TestHttp.ServeAsync(context => { elsewhere.Enqueue(context.Request.Path); return Task.CompletedTask; }, "127.0.0.2");
        {
            var blockedUrl = blocked.Url + "/internal";
            await using var receiver = await CallbackReceiver.StartAsync();
            receiver.Answer = context => context.Request.Query.ContainsKey("moved") ? Results.Redirect(blockedUrl) : null;
            await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Webhooks:AllowedNetworks", "127.0.0.1/32"]);

            var (status, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1),
                "RecordingStatusCallback=" + Uri.EscapeDataString(receiver.Url));
            Assert.Equal(HttpStatusCode.Created, status);
            await Eventually.TrueAsync(() => receiver.Requests.Any(r => r.Url == receiver.Url), "the allowed receiver is called");

            (status, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1),
                "RecordingStatusCallback=" + Uri.EscapeDataString(receiver.Url + "?moved=1"));
            Assert.Equal(HttpStatusCode.Created, status);
            await Eventually.TrueAsync(async () => (await NotificationsAsync(vault)).Any(n => n.ErrorCode == "11200"), "the redirect is reported");
            var notification = Assert.Single(await NotificationsAsync(vault));
            Assert.Contains($"HTTP 302, a redirect to {blockedUrl}, which the vault does not follow", notification.MessageText, StringComparison.Ordinal);
            Assert.Equal("1", notification.Log); // a warning: retried, and refused again each time
            Assert.Empty(elsewhere);
            // And straight at it: refused when connecting.
            (status, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1),
                "RecordingStatusCallback=" + Uri.EscapeDataString(blockedUrl));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Empty(elsewhere);
        }
    }

    [Fact]
    public async Task Credentials_in_a_callback_url_are_sent_as_basic_auth_signed_without_and_appear_in_no_log_notification_or_answer()
    {
        int calls = 0;
        await using var receiver = await CallbackReceiver.StartAsync();
        receiver.Answer = _ => Interlocked.Increment(ref calls) == 1 ? Results.StatusCode(503) : null;
        await using var vault = await VaultServer.StartAsync();
        const string password = "pa:ss@w0rd/Secret";
        var hook = receiver.Url.Replace("http://", $"http://hook-user:{Uri.EscapeDataString(password)}@", StringComparison.Ordinal) + "?tenant=7";
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1), "RecordingStatusCallback=" + Uri.EscapeDataString(hook));
        Assert.Equal(HttpStatusCode.Created, status);
        var recordingSid = body.GetProperty("sid").GetString()!;
        await Eventually.TrueAsync(() => receiver.Requests.Count == 2, "a failed attempt, then the delivery");

        foreach (var request in receiver.Requests)
        {
            Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("hook-user:" + password)), request.Authorization);
            Assert.Equal(receiver.Url + "?tenant=7", request.Url);
            // Signed over the URL the receiver sees, so Twilio's validators accept it there.
            Assert.Equal(Core.TwilioSignature.Sign(vault.AuthToken, request.Url, request.Parameters.ToList()), request.Signature);
        }
        var notification = Assert.Single(await NotificationsAsync(vault));
        Assert.Contains("HTTP 503", notification.MessageText, StringComparison.Ordinal);
        Assert.Contains(receiver.Url, notification.MessageText, StringComparison.Ordinal);

        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var everything = string.Join("\n", vault.Logs) + JsonSerializer.Serialize(await NotificationsAsync(vault)) +
            await http.GetStringAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{recordingSid}.json") +
            await http.GetStringAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Notifications.json");
        foreach (var secret in new[] { "pa:ss", "w0rd", Uri.EscapeDataString(password), "hook-user", "tenant=7" })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
        // At rest too: the database (its WAL, or the PostgreSQL schema) and the media store hold the URL sealed.
        foreach (var (path, content) in vault.DataFiles())
        {
            var text = Encoding.Latin1.GetString(content);
            Assert.False(text.Contains(Uri.EscapeDataString(password), StringComparison.Ordinal) || text.Contains("hook-user", StringComparison.Ordinal),
                $"{path} holds the callback URL's credentials");
        }
    }
}
