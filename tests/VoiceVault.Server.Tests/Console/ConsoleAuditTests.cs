using Microsoft.Playwright;
using Twilio.Rest.Api.V2010;
using static Microsoft.Playwright.Assertions;

namespace VoiceVault.Server.Tests.Console;

/// <summary>
/// The console's Audit page (docs/audit.md): a chain newest first, filtered and paged by keyset;
/// and "Verify", which checks in the browser (WebCrypto) that the newest checkpoint's signature
/// holds and covers the events before it — and names the sequence where a changed event breaks it.
/// </summary>
public sealed class ConsoleAuditTests(ConsoleBrowser chromium) : IClassFixture<ConsoleBrowser>
{
    [Fact]
    public async Task The_audit_page_lists_filters_and_pages_a_chain_and_verifies_it_in_the_browser_naming_where_it_breaks()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "Clinic line", client: vault.Twilio());
        await vault.EnableEncryptionAsync(sub.Sid);
        var (_, created) = await vault.UploadAsync(sub.Sid, sub.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var recording = created.GetProperty("sid").GetString()!;
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        for (int i = 0; i < 60; i++)
        {
            await http.GetByteArrayAsync($"/2010-04-01/Accounts/{sub.Sid}/Recordings/{recording}");
        }
        (await http.PostAsync($"/v1/Accounts/{sub.Sid}/AuditCheckpoints", null)).EnsureSuccessStatusCode();
        long newest = (await AuditTrailTests.EventsAsync(http, sub.Sid)).Max(e => e.GetProperty("sequence").GetInt64());

        await using var context = await chromium.NewContextAsync(vault);
        var page = await context.NewPageAsync();
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit" }).ClickAsync();
        await page.GetByLabel("Account").SelectOptionAsync(sub.Sid);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var rows = page.GetByRole(AriaRole.Table).GetByRole(AriaRole.Row);
        // Newest first, a page of 50 (and the header row).
        await Expect(rows.Nth(1)).ToContainTextAsync(newest.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(rows).ToHaveCountAsync(51);
        await page.GetByRole(AriaRole.Link, new() { Name = "Older events" }).ClickAsync();
        await Expect(rows.Nth(1)).ToContainTextAsync((newest - 50).ToString(System.Globalization.CultureInfo.InvariantCulture));

        // A filter holds: only the creation of the recording.
        await page.GetByLabel("Action").FillAsync("recording.create");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Nth(1)).ToContainTextAsync(recording);

        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await Expect(page.GetByText("The chain holds")).ToBeVisibleAsync();
        await Expect(page.GetByText($"events 1–{newest} link")).ToBeVisibleAsync();

        // Someone with the database changes one event inside the checkpoint's span: the browser finds it.
        long changed = newest - 10;
        await TestDatabase.ExecuteAsync(vault.DataDir, $"UPDATE audit_events SET source_ip = '203.0.113.66' WHERE account_sid = '{sub.Sid}' AND sequence = {changed}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await Expect(page.GetByText($"The chain breaks at sequence {changed}: changed")).ToBeVisibleAsync();
    }
}
