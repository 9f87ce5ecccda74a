using System.Net;
using System.Security.Cryptography;
using Microsoft.Playwright;
using Twilio.Rest.Api.V2010;
using static Microsoft.Playwright.Assertions;
using CallRecording = Twilio.Rest.Api.V2010.Account.Call.RecordingResource;

namespace VoiceVault.Server.Tests.Console;

/// <summary>The console's other pages, each doing what the API does.</summary>
public sealed class ConsolePagesTests(ConsoleBrowser chromium) : IClassFixture<ConsoleBrowser>
{
    [Fact]
    public async Task Pause_resume_and_stop_from_the_live_calls_page_change_the_recording_as_the_api_does()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync(new() { ["Record"] = "false" });
        var frames = Enumerable.Range(0, 150).Select(_ => MediaStream.Frame()).ToArray();
        // The REST calls travel on another connection: each waits until the vault has taken every
        // frame sent. One frame streams before the recording starts, so the call is known first.
        await stream.MediaAsync("inbound", 0, MediaStream.Frame());
        await vault.WaitForFramesAsync(1);
        async Task SendAsync(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                await stream.MediaAsync("inbound", (i + 1) * 20, frames[i]);
            }
            await vault.WaitForFramesAsync(to + 1);
        }
        var recording = await CallRecording.CreateAsync(pathCallSid: stream.CallSid, client: vault.Twilio());
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        await page.GetByRole(AriaRole.Link, new() { Name = "Live calls" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = recording.Sid });
        await Expect(row).ToContainTextAsync("in-progress");

        await SendAsync(0, 50);
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(row).ToContainTextAsync("paused");
        Assert.Equal(CallRecording.StatusEnum.Paused, (await CallRecording.FetchAsync(pathCallSid: stream.CallSid, pathSid: recording.Sid, client: vault.Twilio())).Status);
        await SendAsync(50, 100);
        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(row).ToContainTextAsync("in-progress");
        await SendAsync(100, 150);
        await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        await Expect(page.GetByText("No call is being recorded right now.")).ToBeVisibleAsync();

        // Paused with Twilio's default behaviour (silence): the card number is not in the file.
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var wav = await http.GetByteArrayAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{recording.Sid}.wav");
        var silence = Enumerable.Repeat(Enumerable.Repeat((byte)0xFF, 160).ToArray(), 50);
        Assert.Equal(LiveRecordingControlTests.Mono(frames[..50].Concat(silence).Concat(frames[100..])), wav);
        await stream.StopAsync();
    }

    [Fact]
    public async Task The_debugger_shows_16107_and_16104_newest_first_with_what_to_do()
    {
        await using var vault = await VaultServer.StartAsync();
        // 16107: the configured key is deleted, another key of the account is used.
        using var first = RSA.Create(2048);
        using var second = RSA.Create(2048);
        var fallback = await vault.AddKeyAsync(first);
        var configured = await vault.AddKeyAsync(second);
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, configured);
        await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.DeleteAsync(pathSid: configured, client: vault.Twilio());
        var (status, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        Assert.Equal(HttpStatusCode.Created, status);
        // 16104: no usable key at all.
        await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.DeleteAsync(pathSid: fallback, client: vault.Twilio());
        var failedCall = Audio.CallSid();
        await vault.UploadAsync(vault.AccountSid, vault.AuthToken, failedCall, Audio.Wav(1));

        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        await page.GetByRole(AriaRole.Link, new() { Name = "Debugger" }).ClickAsync();
        var rows = page.GetByRole(AriaRole.Table).GetByRole(AriaRole.Row);
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(rows.Nth(1)).ToContainTextAsync("16104");
        await Expect(rows.Nth(1)).ToContainTextAsync("Recording could not be encrypted");
        await Expect(rows.Nth(1)).ToContainTextAsync("What to do:");
        await Expect(rows.Nth(1)).ToContainTextAsync(failedCall);
        await Expect(rows.Nth(2)).ToContainTextAsync("16107");
        await Expect(rows.Nth(2)).ToContainTextAsync("Configured key unusable; another key was used");
        await Expect(rows.Nth(2)).ToContainTextAsync(fallback);
    }

    [Fact]
    public async Task A_pasted_private_key_is_refused_before_anything_is_sent_and_delete_warns_how_many_recordings_need_the_key()
    {
        await using var vault = await VaultServer.StartAsync();
        using var rsa = RSA.Create(2048);
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        var posts = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "POST")
            {
                posts.Add(request.Url);
            }
        };
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        await page.GetByRole(AriaRole.Link, new() { Name = "Credentials" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create new Credential" }).ClickAsync();
        posts.Clear();
        foreach (var pem in new[] { rsa.ExportPkcs8PrivateKeyPem(), rsa.ExportRSAPrivateKeyPem() })
        {
            await page.GetByLabel("Public key", new() { Exact = true }).FillAsync(pem);
            await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("That is a PRIVATE key, and it was not sent");
            await Expect(page.GetByLabel("Public key", new() { Exact = true })).ToHaveValueAsync("");
        }
        // Chosen as a file, the same.
        await page.GetByLabel("Or choose a public key file").SetInputFilesAsync(new FilePayload { Name = "id.pem", MimeType = "text/plain", Buffer = System.Text.Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem()) });
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("That file is a PRIVATE key");
        Assert.Empty(posts);

        // A real public key, three recordings encrypted to it, then Delete: the warning counts them.
        await page.GetByLabel("Public key", new() { Exact = true }).FillAsync(rsa.ExportSubjectPublicKeyInfoPem());
        await page.GetByLabel("Friendly name").FillAsync("archive key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "archive key" });
        var keySid = (await row.Locator("code").First.TextContentAsync())!;
        await row.GetByRole(AriaRole.Button, new() { Name = "Rename" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByLabel("Friendly name").FillAsync("archive key 2026");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "archive key 2026" });
        await Expect(row).ToContainTextAsync(keySid);
        Assert.Equal("archive key 2026", (await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.FetchAsync(pathSid: keySid, client: vault.Twilio())).FriendlyName);
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, keySid);
        for (int i = 0; i < 3; i++)
        {
            await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        }
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("3 recordings are encrypted to this key");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(row).ToBeVisibleAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        var ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() => Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.FetchAsync(pathSid: keySid, client: vault.Twilio()));
        Assert.Equal(20404, ex.Code);
    }

    [Fact]
    public async Task Recordings_page_through_by_keyset_and_filter_by_call_and_status()
    {
        await using var vault = await VaultServer.StartAsync();
        var calls = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            calls.Add(Audio.CallSid());
            Assert.Equal(HttpStatusCode.Created, (await vault.UploadAsync(vault.AccountSid, vault.AuthToken, calls[^1], Audio.Wav(1))).Status);
        }
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        await page.GotoAsync("/console/recordings?size=2");
        var seen = new List<string>();
        for (int pageNumber = 1; ; pageNumber++)
        {
            var table = page.GetByRole(AriaRole.Table, new() { Name = $"newest first (page {pageNumber})" });
            await Expect(table).ToBeVisibleAsync();
            foreach (var code in await table.Locator("tbody tr td:nth-child(2) code").AllTextContentsAsync())
            {
                seen.Add(code);
            }
            var next = page.GetByRole(AriaRole.Link, new() { Name = "Next page" });
            if (await next.CountAsync() == 0)
            {
                break;
            }
            await next.ClickAsync();
        }
        // Newest first, each exactly once, across three pages.
        Assert.Equal(Enumerable.Reverse(calls), seen);
        await page.GetByRole(AriaRole.Link, new() { Name = "Previous page" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "newest first (page 2)" })).ToContainTextAsync(calls[1]);

        await page.GotoAsync("/console/recordings");
        await page.GetByLabel("Call SID").FillAsync(calls[2]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table).Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync(calls[2]);
        await page.GetByLabel("Call SID").FillAsync("");
        await page.GetByLabel("Status").SelectOptionAsync("failed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.GetByText("No recordings match.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Console_responses_carry_a_strict_content_security_policy_and_the_pages_load_nothing_from_elsewhere()
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = vault.Http();
        foreach (var path in new[] { "/console", "/console/recordings/RE00000000000000000000000000000000", "/console/assets/app.js" })
        {
            var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        }
        var html = await http.GetStringAsync("/console");
        Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)", html);
        Assert.DoesNotContain("style=", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/console/assets/nothing.js")).StatusCode);

        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        var origins = new HashSet<string>();
        var violations = new List<string>();
        page.Request += (_, request) => origins.Add(new Uri(request.Url).GetLeftPart(UriPartial.Authority));
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                violations.Add(message.Text);
            }
        };
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        foreach (var link in new[] { "Live calls", "Credentials", "Voice settings", "Debugger", "Subaccounts", "API keys", "Recordings" })
        {
            await page.GetByRole(AriaRole.Link, new() { Name = link, Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(link == "Subaccounts" ? "Subaccounts" : link);
        }
        Assert.Equal([vault.BaseUri.GetLeftPart(UriPartial.Authority)], origins);
        Assert.Empty(violations);
    }

    [Fact]
    public async Task Subaccounts_and_api_keys_are_made_renamed_suspended_and_deleted_and_a_secret_is_shown_once()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);

        await page.GetByRole(AriaRole.Link, new() { Name = "Subaccounts" }).ClickAsync();
        await page.GetByLabel("Friendly name").FillAsync("Branch office");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create subaccount" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Branch office" });
        await Expect(row).ToContainTextAsync("active");
        await row.GetByRole(AriaRole.Button, new() { Name = "Rename" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByLabel("Friendly name").FillAsync("Branch office (north)");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Branch office (north)" });
        await row.GetByRole(AriaRole.Button, new() { Name = "Suspend" }).ClickAsync();
        await Expect(row).ToContainTextAsync("suspended");
        var sub = Assert.Single(await AccountResource.ReadAsync(friendlyName: "Branch office (north)", client: vault.Twilio()));
        Assert.Equal(AccountResource.StatusEnum.Suspended, sub.Status);

        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Friendly name").FillAsync("CI export");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create API key" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        var keySid = (await dialog.Locator("code").Nth(0).TextContentAsync())!;
        var secret = (await dialog.Locator("code.secret").TextContentAsync())!;
        // The secret works, as the SID's password.
        using (var http = vault.Http(keySid, secret))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json")).StatusCode);
        }
        await dialog.GetByRole(AriaRole.Button, new() { Name = "I have copied it" }).ClickAsync();
        await Expect(page.GetByText(secret)).ToHaveCountAsync(0);
        var keyRow = page.GetByRole(AriaRole.Row).Filter(new() { HasText = keySid });
        await Expect(keyRow).ToContainTextAsync("CI export");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await keyRow.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(keyRow).ToHaveCountAsync(0);
        using (var http = vault.Http(keySid, secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json")).StatusCode);
        }
    }
}
