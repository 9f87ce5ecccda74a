using System.Diagnostics;
using Microsoft.Playwright;

namespace VoiceVault.Server.Tests.Console;

/// <summary>
/// Headless Chromium from the system (Debian's <c>chromium</c>, or <c>VOICEVAULT_CHROMIUM</c>),
/// driven by Playwright, one per test class; each test gets its own browser context (cookies,
/// storage, IndexedDB). scripts/test.sh installs Chromium; without it these tests fail, saying so.
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("VOICEVAULT_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"Chromium is not at {ExecutablePath}: run scripts/test.sh (it installs Debian's chromium) or set VOICEVAULT_CHROMIUM.");
        }
        _playwright = await Playwright.CreateAsync();
        // Assertions wait for their condition up to 15 s (Playwright's default is 5): two cores
        // shared by three test projects and a vault per test once took longer than 5 s to render a
        // page after sign-in. A condition met sooner returns at once.
        Assertions.SetDefaultExpectTimeout(15_000);
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root in CI has no user namespace sandbox; the pages tested are our own.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
    }

    /// <summary>A fresh context (no cookies, no storage) with downloads allowed.</summary>
    public Task<IBrowserContext> NewContextAsync(VaultServer vault) =>
        Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = vault.BaseUri.ToString().TrimEnd('/'), AcceptDownloads = true });
}

/// <summary>What a user does in the console, one helper each.</summary>
internal static class ConsoleUser
{
    public static async Task SignInAsync(this IPage page, string sid, string secret)
    {
        await page.GotoAsync("/console");
        await page.GetByLabel("Account SID or API key").FillAsync(sid);
        await page.GetByLabel("Auth token or secret").FillAsync(secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Recordings", Level = 1 })).ToBeVisibleAsync();
    }

    /// <summary>Chooses a key file (bytes, never on disk) and decrypts the open recording.</summary>
    public static async Task DecryptAsync(this IPage page, byte[] keyFile, string name, string? passphrase = null, bool remember = false)
    {
        await page.GetByLabel("Private key").SetInputFilesAsync(new FilePayload { Name = name, MimeType = "application/x-pem-file", Buffer = keyFile });
        if (passphrase is not null)
        {
            await page.GetByLabel("Passphrase").FillAsync(passphrase);
        }
        if (remember)
        {
            await page.GetByLabel("Remember this key").CheckAsync();
        }
        await page.GetByRole(AriaRole.Button, new() { Name = "Decrypt", Exact = true }).ClickAsync();
    }

    /// <summary>Clicks "Download WAV" and returns the bytes the browser saved.</summary>
    public static async Task<byte[]> DownloadWavAsync(this IPage page)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download WAV" }).ClickAsync());
        var path = await download.PathAsync();
        var bytes = await File.ReadAllBytesAsync(path);
        await download.DeleteAsync();
        return bytes;
    }
}

/// <summary>openssl as the independent maker of key files.</summary>
internal static class Openssl
{
    public static async Task<byte[]> RunAsync(byte[] input, params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        await process.StandardInput.BaseStream.WriteAsync(input);
        process.StandardInput.Close();
        using var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await copy;
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', args)}: {await error}");
        return output.ToArray();
    }

    /// <summary>A fresh RSA key: PKCS#1 PEM (openssl genrsa -traditional), its public key PEM, and the same key as encrypted PKCS#8 (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA256).</summary>
    public static async Task<(byte[] Pkcs1, string PublicPem, byte[] EncryptedPkcs8, byte[] Pkcs8Der)> KeyAsync(string passphrase, int bits = 2048)
    {
        var pkcs1 = await RunAsync([], "genrsa", "-traditional", bits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var publicPem = System.Text.Encoding.ASCII.GetString(await RunAsync(pkcs1, "rsa", "-pubout"));
        var encrypted = await RunAsync(pkcs1, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-passout", "pass:" + passphrase);
        var der = await RunAsync(pkcs1, "pkcs8", "-topk8", "-nocrypt", "-outform", "DER");
        return (pkcs1, publicPem, encrypted, der);
    }
}
