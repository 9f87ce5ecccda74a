using System.Net;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Twilio.Rest.Api.V2010;
using static Microsoft.Playwright.Assertions;
using CallRecording = Twilio.Rest.Api.V2010.Account.Call.RecordingResource;

namespace VoiceVault.Server.Tests.Console;

/// <summary>
/// Every page, filled with data, checked by axe-core (the engine ships inside the test package and
/// is injected into the page; no network) for serious or critical issues; and the console used
/// with the keyboard alone. With VOICEVAULT_SCREENSHOTS=folder the walk also saves a screenshot of
/// each page (scripts/console-screenshots.sh writes docs/console/ that way).
/// </summary>
public sealed class ConsoleAccessibilityTests(ConsoleBrowser chromium) : IClassFixture<ConsoleBrowser>
{
    [Fact]
    public async Task Every_page_passes_axe_with_no_serious_or_critical_issue()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "Clinic line", client: vault.Twilio());
        var key = await Openssl.KeyAsync("screenshot");
        var keySid = (await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.CreateAsync(publicKey: key.PublicPem, friendlyName: "Recordings key 2026",
            client: vault.Twilio())).Sid;
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, keySid);
        await Twilio.Rest.Api.V2010.Account.NewKeyResource.CreateAsync(friendlyName: "CI export", client: vault.Twilio());
        string recordingSid = "";
        for (int i = 0; i < 4; i++)
        {
            var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(4, channels: 2));
            Assert.Equal(HttpStatusCode.Created, status);
            recordingSid = body.GetProperty("sid").GetString()!;
        }
        // A notification for the debugger: a subaccount whose configured key is gone.
        var orphan = await vault.AddKeyAsync(System.Security.Cryptography.RSA.Create(2048), sub.Sid);
        await vault.SetEncryptionAsync(sub.Sid, enabled: true, orphan);
        await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.DeleteAsync(pathSid: orphan, client: vault.Twilio());
        await vault.UploadAsync(sub.Sid, sub.AuthToken, Audio.CallSid(), Audio.Wav(1));
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync(new() { ["Record"] = "false" });
        await stream.MediaAsync("inbound", 0, MediaStream.Frame());
        // The recording is started on another connection: only once the vault has taken the frame.
        await vault.WaitForFramesAsync(1);
        await CallRecording.CreateAsync(pathCallSid: stream.CallSid, client: vault.Twilio());

        await using var context = await chromium.Browser.NewContextAsync(new() { BaseURL = vault.BaseUri.ToString().TrimEnd('/'), ViewportSize = new() { Width = 1280, Height = 860 } });
        var page = await context.NewPageAsync();
        var problems = new List<string>();
        var shots = Environment.GetEnvironmentVariable("VOICEVAULT_SCREENSHOTS");
        async Task CheckAsync(string name)
        {
            var result = await page.RunAxe();
            foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
            {
                problems.Add($"{name}: {violation.Id} ({violation.Impact}) {violation.Help} at {string.Join(", ", violation.Nodes.Select(n => n.Target?.ToString()))}");
            }
            if (!string.IsNullOrEmpty(shots))
            {
                Directory.CreateDirectory(shots);
                await page.ScreenshotAsync(new() { Path = Path.Combine(shots, name + ".png"), FullPage = true });
            }
        }

        await page.GotoAsync("/console");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await CheckAsync("sign-in");
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        await Expect(page.GetByRole(AriaRole.Row).Nth(4)).ToBeVisibleAsync();
        await CheckAsync("recordings");
        await page.GotoAsync($"/console/recordings/{recordingSid}");
        await page.DecryptAsync(key.Pkcs1, "private.pem");
        await Expect(page.GetByText("Decrypted and verified")).ToBeVisibleAsync();
        await CheckAsync("recording-decrypted");
        await page.GotoAsync("/console/credentials");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create new Credential" }).ClickAsync();
        await CheckAsync("credentials");
        await page.GotoAsync($"/console/voice/settings?account={sub.Sid}");
        await Expect(page.GetByLabel("Voice Recording Encryption")).ToBeVisibleAsync();
        await CheckAsync("voice-settings");
        await page.GotoAsync("/console/calls");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pause" })).ToBeVisibleAsync();
        await CheckAsync("live-calls");
        await page.GotoAsync($"/console/debugger?account={sub.Sid}");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync("What to do");
        await CheckAsync("debugger");
        await page.GotoAsync("/console/accounts");
        await Expect(page.GetByText("Clinic line").First).ToBeVisibleAsync();
        await CheckAsync("subaccounts");
        await page.GotoAsync("/console/keys");
        await Expect(page.GetByText("CI export")).ToBeVisibleAsync();
        await CheckAsync("api-keys");
        await page.GotoAsync("/console/audit");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await Expect(page.GetByText("There is no signed checkpoint")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Make a checkpoint now" }).ClickAsync();
        await Expect(page.GetByText("The chain holds")).ToBeVisibleAsync();
        await CheckAsync("audit");
        await stream.StopAsync();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task The_console_works_from_the_keyboard_alone_with_a_visible_focus()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();

        // Tab from the top: the skip link, then the sign-in fields, typed into, and Enter.
        var focused = new List<string>();
        async Task<string> TabAsync()
        {
            await page.Keyboard.PressAsync("Tab");
            // Past the last control, focus leaves the document (the browser's own controls) once.
            if (await page.EvaluateAsync<bool>("() => document.activeElement === document.body"))
            {
                await page.Keyboard.PressAsync("Tab");
            }
            var what = await page.EvaluateAsync<string>("() => { const e = document.activeElement; return (e.labels?.[0]?.textContent ?? e.textContent ?? '').trim(); }");
            focused.Add(what);
            // The focus is visible: an outline drawn around whatever has it.
            var outline = await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle");
            Assert.True(outline != "none", $"no visible focus on '{what}'");
            return what;
        }
        while (await TabAsync() != "Account SID or API key")
        {
            Assert.True(focused.Count < 10, "the sign-in field is not reachable by Tab: " + string.Join(" | ", focused));
        }
        await page.Keyboard.TypeAsync(vault.AccountSid);
        Assert.Equal("Auth token or secret", await TabAsync());
        await page.Keyboard.TypeAsync(vault.AuthToken);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Recordings", Level = 1 })).ToBeFocusedAsync();

        // To the API keys page by Tab and Enter, make a key, and close the secret's dialog with the keyboard.
        focused.Clear();
        while (await TabAsync() != "API keys")
        {
            Assert.True(focused.Count < 30, "the API keys link is not reachable by Tab: " + string.Join(" | ", focused));
        }
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API keys", Level = 1 })).ToBeFocusedAsync();
        focused.Clear();
        while (await TabAsync() != "Friendly name")
        {
            Assert.True(focused.Count < 30, "the key's name field is not reachable by Tab: " + string.Join(" | ", focused));
        }
        await page.Keyboard.TypeAsync("keyboard key");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "I have copied it" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "keyboard key" })).ToBeVisibleAsync();
    }
}
