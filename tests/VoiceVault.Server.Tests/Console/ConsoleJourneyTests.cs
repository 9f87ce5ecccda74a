using System.Net;
using System.Text;
using Microsoft.Playwright;
using Twilio.Rest.Api.V2010;
using static Microsoft.Playwright.Assertions;

namespace VoiceVault.Server.Tests.Console;

/// <summary>The journey Twilio's guide describes, in the console, ending where Twilio's console cannot go: playing the recording.</summary>
public sealed class ConsoleJourneyTests(ConsoleBrowser chromium) : IClassFixture<ConsoleBrowser>
{
    [Fact]
    public async Task Sign_in_paste_a_key_turn_encryption_on_for_a_subaccount_and_decrypt_in_the_browser()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "Clinic line", client: vault.Twilio());
        const string passphrase = "correct horse battery staple";
        var key = await Openssl.KeyAsync(passphrase);
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();

        await page.SignInAsync(vault.AccountSid, vault.AuthToken);

        // Credentials: "Create new Credential", paste the PEM, for the subaccount.
        await page.GetByRole(AriaRole.Link, new() { Name = "Credentials" }).ClickAsync();
        await page.GetByLabel("Account").SelectOptionAsync(sub.Sid);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Credentials" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create new Credential" }).ClickAsync();
        await page.GetByLabel("Friendly name").FillAsync("Clinic recordings key");
        await page.GetByLabel("Public key", new() { Exact = true }).FillAsync(key.PublicPem);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Clinic recordings key" });
        await Expect(row).ToBeVisibleAsync();
        var keySid = (await row.Locator("code").First.TextContentAsync())!;
        Assert.StartsWith("CR", keySid, StringComparison.Ordinal);

        // Voice settings: turn encryption on for the subaccount with that key.
        await page.GetByRole(AriaRole.Link, new() { Name = "Voice settings" }).ClickAsync();
        await page.GetByLabel("Account").SelectOptionAsync(sub.Sid);
        await Expect(page.GetByText("encryption is OFF for this account")).ToBeVisibleAsync();
        await page.GetByLabel("Voice Recording Encryption").CheckAsync();
        await page.GetByLabel("Public key").SelectOptionAsync(keySid);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByText($"Saved: encryption on, to {keySid}")).ToBeVisibleAsync();

        // A recording arrives through the API, as the subaccount.
        var wav = Audio.Wav(3, channels: 2);
        var callSid = Audio.CallSid();
        var (status, body) = await vault.UploadAsync(sub.Sid, sub.AuthToken, callSid, wav);
        Assert.Equal(HttpStatusCode.Created, status);
        var recordingSid = body.GetProperty("sid").GetString()!;

        // It appears in the subaccount's list, encrypted to the key.
        await page.GetByRole(AriaRole.Link, new() { Name = "Recordings" }).ClickAsync();
        await page.GetByLabel("Account").SelectOptionAsync(sub.Sid);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var listed = page.GetByRole(AriaRole.Row).Filter(new() { HasText = recordingSid });
        await Expect(listed).ToContainTextAsync(keySid);
        await Expect(listed).ToContainTextAsync("completed");
        await listed.GetByRole(AriaRole.Link).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Recording {recordingSid}" })).ToBeVisibleAsync();

        // Decrypt with the PKCS#1 key: the player, a waveform per channel, and the WAV byte for byte.
        await page.DecryptAsync(key.Pkcs1, "clinic-pkcs1.pem");
        await Expect(page.GetByText("Decrypted and verified")).ToBeVisibleAsync();
        await Expect(page.Locator("audio")).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Waveform of channel 2 of 2" })).ToBeVisibleAsync();
        Assert.Equal(wav, await page.DownloadWavAsync());

        // And again, fresh, with the encrypted PKCS#8 key and its passphrase.
        await page.ReloadAsync();
        await page.DecryptAsync(key.EncryptedPkcs8, "clinic-encrypted.pem", passphrase);
        await Expect(page.GetByText("Decrypted and verified")).ToBeVisibleAsync();
        Assert.Equal(wav, await page.DownloadWavAsync());

        // DER works as well as PEM.
        await page.ReloadAsync();
        await page.DecryptAsync(key.Pkcs8Der, "clinic.der");
        await Expect(page.GetByText("Decrypted and verified")).ToBeVisibleAsync();
        Assert.Equal(wav, await page.DownloadWavAsync());
    }

    [Fact]
    public async Task Tampered_media_a_wrong_key_and_a_wrong_passphrase_say_so_and_play_nothing()
    {
        await using var vault = await VaultServer.StartAsync();
        const string passphrase = "open sesame";
        var key = await Openssl.KeyAsync(passphrase);
        var other = await Openssl.KeyAsync(passphrase);
        var keySid = (await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.CreateAsync(publicKey: key.PublicPem, client: vault.Twilio())).Sid;
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, keySid);
        var (_, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(2));
        var recordingSid = body.GetProperty("sid").GetString()!;
        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        await page.GotoAsync($"/console/recordings/{recordingSid}");
        var alert = page.GetByRole(AriaRole.Alert);

        await page.DecryptAsync(other.Pkcs1, "not-this-one.pem");
        await Expect(alert).ToContainTextAsync("not the one the recording was encrypted to");
        await Expect(page.Locator("audio")).ToHaveCountAsync(0);

        await page.DecryptAsync(key.EncryptedPkcs8, "right-key.pem", "wrong passphrase");
        await Expect(alert).ToContainTextAsync("passphrase is wrong");
        await Expect(page.Locator("audio")).ToHaveCountAsync(0);

        await page.DecryptAsync(key.EncryptedPkcs8, "right-key.pem");
        await Expect(alert).ToContainTextAsync("enter its passphrase");

        await page.DecryptAsync(Encoding.ASCII.GetBytes(key.PublicPem), "public.pem");
        await Expect(alert).ToContainTextAsync("This is a public key");

        // One bit of the stored media flipped on its way to the page: the tag catches it.
        await page.RouteAsync($"**/Recordings/{recordingSid}", async route =>
        {
            var response = await route.FetchAsync();
            var bytes = await response.BodyAsync();
            bytes[bytes.Length / 2] ^= 0x01;
            await route.FulfillAsync(new() { Response = response, BodyBytes = bytes });
        });
        await page.DecryptAsync(key.Pkcs1, "right-key.pem");
        await Expect(alert).ToContainTextAsync("failed authentication");
        await Expect(page.Locator("audio")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Download WAV" })).ToHaveCountAsync(0);

        // Cut short: the same.
        await page.UnrouteAllAsync();
        await page.RouteAsync($"**/Recordings/{recordingSid}", async route =>
        {
            var response = await route.FetchAsync();
            var bytes = await response.BodyAsync();
            await route.FulfillAsync(new() { Response = response, BodyBytes = bytes[..^1] });
        });
        await page.DecryptAsync(key.Pkcs1, "right-key.pem");
        await Expect(alert).ToContainTextAsync("Nothing was played");
        await Expect(page.Locator("audio")).ToHaveCountAsync(0);
    }
}
