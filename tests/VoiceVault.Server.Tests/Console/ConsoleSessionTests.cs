using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Twilio.Rest.Api.V2010;
using Twilio.Rest.Api.V2010.Account;
using VoiceVault.Server.WebConsole;
using static Microsoft.Playwright.Assertions;

namespace VoiceVault.Server.Tests.Console;

/// <summary>Console sessions: sign-in, the tenant rules through the cookie, CSRF, sign-out and expiry.</summary>
public sealed class ConsoleSessionTests(ConsoleBrowser chromium) : IClassFixture<ConsoleBrowser>
{
    /// <summary>A cookie-carrying client signed in through /console/session; its CSRF token.</summary>
    private static async Task<(HttpClient Http, string Csrf, string Cookie)> SignInAsync(VaultServer vault, string sid, string secret)
    {
        var cookies = new CookieContainer();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = vault.BaseUri };
        var response = await http.PostAsJsonAsync("/console/session", new { sid, secret });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (http, body.GetProperty("csrf_token").GetString()!, cookies.GetCookies(vault.BaseUri)["vv_console"]!.Value);
    }

    private static HttpClient WithCookie(VaultServer vault, string cookie)
    {
        var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = vault.BaseUri };
        http.DefaultRequestHeaders.Add("Cookie", $"vv_console={cookie}");
        return http;
    }

    private static HttpRequestMessage Post(string path, string? csrf, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (csrf is not null)
        {
            request.Headers.Add(CsrfMiddleware.HeaderName, csrf);
        }
        return request;
    }

    [Fact]
    public async Task Nothing_is_reachable_without_signing_in_and_wrong_secrets_say_nothing_more()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/credentials");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console" })).ToBeHiddenAsync();

        await page.GetByLabel("Account SID or API key").FillAsync(vault.AccountSid);
        await page.GetByLabel("Auth token or secret").FillAsync("not-the-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The SID or the secret is wrong, or the account is not active");
        Assert.Empty(await context.CookiesAsync());

        // The right one lands on the page first asked for; the cookie is out of script's reach.
        await page.GetByLabel("Auth token or secret").FillAsync(vault.AuthToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Credentials", Level = 1 })).ToBeVisibleAsync();
        Assert.Equal("", await page.EvaluateAsync<string>("() => document.cookie"));

        using var anonymous = new HttpClient { BaseAddress = vault.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/console/session")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json")).StatusCode);
        // Login CSRF: another origin cannot sign the browser in, and a form post is not JSON.
        var foreign = new HttpRequestMessage(HttpMethod.Post, "/console/session") { Content = JsonContent.Create(new { sid = vault.AccountSid, secret = vault.AuthToken }) };
        foreign.Headers.Add("Origin", "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.SendAsync(foreign)).StatusCode);
        var form = await anonymous.PostAsync("/console/session", new FormUrlEncodedContent(new Dictionary<string, string> { ["sid"] = vault.AccountSid, ["secret"] = vault.AuthToken }));
        Assert.Equal(HttpStatusCode.BadRequest, form.StatusCode);
    }

    [Fact]
    public async Task A_state_change_without_the_csrf_token_is_refused()
    {
        await using var vault = await VaultServer.StartAsync();
        var (http, csrf, _) = await SignInAsync(vault, vault.AccountSid, vault.AuthToken);
        using (http)
        {
            var create = new Dictionary<string, string> { ["FriendlyName"] = "via console" };
            var missing = await http.SendAsync(Post("/2010-04-01/Accounts.json", null, create));
            Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
            Assert.Contains("X-CSRF-Token", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Post("/2010-04-01/Accounts.json", csrf[..^1] + (csrf[^1] == 'A' ? 'B' : 'A'), create))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.DeleteAsync("/console/session")).StatusCode);
            // Nothing was made by the refused requests; the token makes it work.
            Assert.Single(await AccountResource.ReadAsync(client: vault.Twilio()));
            Assert.Equal(HttpStatusCode.Created, (await http.SendAsync(Post("/2010-04-01/Accounts.json", csrf, create))).StatusCode);
            // Reads need no token (SameSite=Strict keeps other sites' navigations from carrying the cookie).
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/2010-04-01/Accounts.json")).StatusCode);
        }
    }

    [Fact]
    public async Task A_subaccounts_session_never_reaches_its_parent_or_a_sibling()
    {
        await using var vault = await VaultServer.StartAsync();
        var a = await AccountResource.CreateAsync(friendlyName: "a", client: vault.Twilio());
        var b = await AccountResource.CreateAsync(friendlyName: "b", client: vault.Twilio());
        var (_, parentUpload) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var (_, siblingUpload) = await vault.UploadAsync(b.Sid, b.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var (_, ownUpload) = await vault.UploadAsync(a.Sid, a.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var parentRecording = parentUpload.GetProperty("sid").GetString()!;
        var siblingRecording = siblingUpload.GetProperty("sid").GetString()!;
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var parentKey = await vault.AddKeyAsync(rsa);
        var siblingKey = await vault.AddKeyAsync(rsa, b.Sid);
        var ownKey = await vault.AddKeyAsync(rsa, a.Sid);

        var (http, csrf, _) = await SignInAsync(vault, a.Sid, a.AuthToken);
        using (http)
        {
            // The console's own endpoint keeps the key-scope rule too: its own key's usage, nobody else's.
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/console/api/public-keys/{ownKey}/usage")).StatusCode);
            foreach (var path in new[]
            {
                $"/console/api/public-keys/{parentKey}/usage",
                $"/console/api/public-keys/{siblingKey}/usage",
                $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{parentRecording}.json",
                $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{parentRecording}",
                $"/2010-04-01/Accounts/{b.Sid}/Recordings/{siblingRecording}",
                $"/2010-04-01/Accounts/{a.Sid}/Recordings/{parentRecording}",
                $"/2010-04-01/Accounts/{b.Sid}/Recordings.json",
                $"/2010-04-01/Accounts/{vault.AccountSid}/Notifications.json",
                $"/2010-04-01/Accounts/{vault.AccountSid}/RecordingEncryption.json",
            })
            {
                Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(path)).StatusCode);
            }
            var accounts = await http.GetFromJsonAsync<JsonElement>("/2010-04-01/Accounts.json");
            Assert.Equal([a.Sid], accounts.GetProperty("accounts").EnumerateArray().Select(x => x.GetProperty("sid").GetString()));
            Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(Post($"/2010-04-01/Accounts/{b.Sid}/RecordingEncryption.json", csrf,
                new() { ["Enabled"] = "false" }))).StatusCode);
        }

        // The same through the pages, by direct URL.
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.SignInAsync(a.Sid, a.AuthToken);
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = ownUpload.GetProperty("sid").GetString()! })).ToBeVisibleAsync();
        await page.GotoAsync($"/console/recordings/{parentRecording}?account={vault.AccountSid}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Recording not found" })).ToBeVisibleAsync();
        await page.GotoAsync($"/console/recordings/{siblingRecording}?account={b.Sid}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Recording not found" })).ToBeVisibleAsync();
        await page.GotoAsync($"/console/recordings?account={b.Sid}");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("was not found");
        await Expect(page.GetByText(siblingRecording)).ToHaveCountAsync(0);
        await page.GotoAsync("/console/voice/settings");
        await Expect(page.GetByLabel("Account").Locator("option")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_signed_out_idle_old_suspended_or_key_deleted_session_is_dead()
    {
        await using var vault = await VaultServer.StartAsync();
        var sessions = vault.Services.GetRequiredService<ConsoleSessions>();
        const string probe = "/console/session";

        // Signed out: the cookie, kept aside, no longer opens anything.
        var (http, csrf, cookie) = await SignInAsync(vault, vault.AccountSid, vault.AuthToken);
        using (http)
        {
            var signOut = new HttpRequestMessage(HttpMethod.Delete, "/console/session");
            signOut.Headers.Add(CsrfMiddleware.HeaderName, csrf);
            Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(signOut)).StatusCode);
        }
        using (var replay = WithCookie(vault, cookie))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync(probe)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json")).StatusCode);
        }

        // Idle past IdleMinutes (30), though used just before; and old past AbsoluteHours (12), though busy.
        var clock = new ShiftedClock();
        sessions.Clock = clock;
        (http, _, cookie) = await SignInAsync(vault, vault.AccountSid, vault.AuthToken);
        http.Dispose();
        using (var user = WithCookie(vault, cookie))
        {
            clock.Shift = TimeSpan.FromMinutes(29);
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync(probe)).StatusCode);
            clock.Shift = TimeSpan.FromMinutes(29 + 29);
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync(probe)).StatusCode);
            clock.Shift = TimeSpan.FromMinutes(29 + 29 + 31);
            Assert.Equal(HttpStatusCode.Unauthorized, (await user.GetAsync(probe)).StatusCode);
        }
        clock.Shift = TimeSpan.Zero;
        (http, _, cookie) = await SignInAsync(vault, vault.AccountSid, vault.AuthToken);
        http.Dispose();
        using (var busy = WithCookie(vault, cookie))
        {
            for (int minutes = 20; minutes < 12 * 60; minutes += 20)
            {
                clock.Shift = TimeSpan.FromMinutes(minutes);
                Assert.Equal(HttpStatusCode.OK, (await busy.GetAsync(probe)).StatusCode);
            }
            clock.Shift = TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1);
            Assert.Equal(HttpStatusCode.Unauthorized, (await busy.GetAsync(probe)).StatusCode);
        }
        clock.Shift = TimeSpan.Zero;

        // Opened with an API key that is then deleted.
        var key = await NewKeyResource.CreateAsync(friendlyName: "console", client: vault.Twilio());
        (http, _, cookie) = await SignInAsync(vault, key.Sid, key.Secret);
        using (http)
        {
            var session = await http.GetFromJsonAsync<JsonElement>(probe);
            Assert.Equal(key.Sid, session.GetProperty("api_key_sid").GetString());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json")).StatusCode);
            await KeyResource.DeleteAsync(pathSid: key.Sid, client: vault.Twilio());
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(probe)).StatusCode);
        }

        // A subaccount suspended by its parent.
        var sub = await AccountResource.CreateAsync(friendlyName: "to suspend", client: vault.Twilio());
        (http, _, _) = await SignInAsync(vault, sub.Sid, sub.AuthToken);
        using (http)
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(probe)).StatusCode);
            await AccountResource.UpdateAsync(pathSid: sub.Sid, status: AccountResource.StatusEnum.Suspended, client: vault.Twilio());
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(probe)).StatusCode);
        }
    }

    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
