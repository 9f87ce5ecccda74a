using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace VoiceVault.Server.Tests.Console;

/// <summary>
/// The pages fit the window: at a laptop's 1280×800 and a phone's 390×844, nothing runs past the
/// page's right edge (wide tables scroll inside their own box), the header bar spans the page, the
/// encryption details stay inside theirs, and the page heading's focus draws no box.
/// </summary>
public sealed class ConsoleLayoutTests(ConsoleBrowser chromium) : IClassFixture<ConsoleBrowser>
{
    [Theory]
    [InlineData(1280, 800)]
    [InlineData(390, 844)]
    public async Task Recordings_live_calls_and_a_recording_fit_the_window(int width, int height)
    {
        await using var vault = await VaultServer.StartAsync();
        await vault.EnableEncryptionAsync();
        string sid = "";
        for (int i = 0; i < 3; i++)
        {
            sid = (await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1))).Body.GetProperty("sid").GetString()!;
        }
        await using var context = await chromium.Browser.NewContextAsync(new() { BaseURL = vault.BaseUri.ToString().TrimEnd('/'), ViewportSize = new() { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);

        await page.GotoAsync("/console/recordings");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync(sid);
        await AssertFitsAsync(page, "recordings");
        await page.GotoAsync($"/console/recordings/{sid}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Encryption details" })).ToBeVisibleAsync();
        await AssertFitsAsync(page, "a recording");
        var details = page.Locator("pre.details");
        Assert.True(await details.EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth"), "the encryption details run out of their box");
        await page.GotoAsync("/console/debugger");
        await AssertFitsAsync(page, "debugger");
    }

    private static async Task AssertFitsAsync(IPage page, string what)
    {
        var sizes = await page.EvaluateAsync<double[]>(
            "() => [document.documentElement.scrollWidth, window.innerWidth, document.querySelector('header.top').getBoundingClientRect().width]");
        var (pageWidth, window, header) = (sizes[0], sizes[1], sizes[2]);
        if (pageWidth > window)
        {
            // What runs past the edge, outermost first, for the message.
            var past = await page.EvaluateAsync<string[]>(
                "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-scroll'))" +
                ".slice(0, 6).map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)");
            Assert.Fail($"{what}: the page is {pageWidth} px wide in a {window} px window; past the edge: {string.Join(", ", past)}");
        }
        Assert.True(header >= window - 1, $"{what}: the header bar is {header} px of {window}");
        var outline = await page.Locator("h1").EvaluateAsync<string>("h => getComputedStyle(h).outlineStyle");
        Assert.Equal("none", outline);
    }

    [Fact]
    public void No_module_of_the_console_imports_the_app_that_imports_every_page()
    {
        var assets = Path.Combine(TestProcess.RepositoryRoot, "src", "VoiceVault.Server", "WebConsole", "assets");
        var importers = Directory.EnumerateFiles(assets, "*.js", SearchOption.AllDirectories)
            .Where(f => System.Text.RegularExpressions.Regex.IsMatch(File.ReadAllText(f), @"from\s+'[./]*app\.js'"))
            .Select(f => Path.GetRelativePath(assets, f)).ToList();
        Assert.Empty(importers);
    }
}
