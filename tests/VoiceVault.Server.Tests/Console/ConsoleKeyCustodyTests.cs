using System.Security.Cryptography;
using System.Text;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace VoiceVault.Server.Tests.Console;

/// <summary>docs/api.md §12: the private key and the plaintext never leave the browser — no request, cookie or storage carries them.</summary>
public sealed class ConsoleKeyCustodyTests(ConsoleBrowser chromium) : IClassFixture<ConsoleBrowser>
{
    [Fact]
    public async Task The_key_and_the_audio_never_leave_the_browser_and_a_remembered_key_cannot_be_exported()
    {
        await using var vault = await VaultServer.StartAsync();
        const string passphrase = "tr0ub4dor&3";
        var key = await Openssl.KeyAsync(passphrase);
        var keySid = (await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.CreateAsync(publicKey: key.PublicPem, client: vault.Twilio())).Sid;
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, keySid);
        var wav = Audio.Wav(3);
        var (_, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav);
        var recordingSid = body.GetProperty("sid").GetString()!;

        await using var context = await chromium.NewContextAsync(vault);
        var requests = new List<(string Url, Dictionary<string, string> Headers, byte[] Body)>();
        var pending = new List<Task>();
        context.Request += (_, request) => pending.Add(Task.Run(async () =>
        {
            var headers = await request.AllHeadersAsync();
            lock (requests)
            {
                requests.Add((request.Url, headers, request.PostDataBuffer ?? []));
            }
        }));
        var page = await context.NewPageAsync();
        await page.SignInAsync(vault.AccountSid, vault.AuthToken);
        await page.GotoAsync($"/console/recordings/{recordingSid}");

        // Decrypt with each kind of key file, the encrypted one remembered.
        await page.DecryptAsync(key.Pkcs1, "pkcs1.pem");
        await Expect(page.GetByText("Decrypted and verified")).ToBeVisibleAsync();
        Assert.Equal(wav, await page.DownloadWavAsync());
        await page.ReloadAsync();
        await page.DecryptAsync(key.EncryptedPkcs8, "encrypted.pem", passphrase, remember: true);
        await Expect(page.GetByText("Decrypted and verified")).ToBeVisibleAsync();
        Assert.Equal(wav, await page.DownloadWavAsync());

        // A remembered key decrypts with one click after a reload, and it cannot be read out.
        await page.ReloadAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Decrypt with remembered key" }).ClickAsync();
        await Expect(page.GetByText("Decrypted and verified")).ToBeVisibleAsync();
        Assert.Equal(wav, await page.DownloadWavAsync());
        var export = await page.EvaluateAsync<string>("""
            async sid => {
              const db = await new Promise((ok, fail) => { const r = indexedDB.open('voicevault-console'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
              const entry = await new Promise(ok => { const r = db.transaction('private-keys').objectStore('private-keys').get(sid); r.onsuccess = () => ok(r.result); });
              db.close();
              if (!entry) return 'no entry';
              if (!(entry.key instanceof CryptoKey)) return 'not a CryptoKey';
              if (entry.key.extractable) return 'extractable';
              for (const format of ['pkcs8', 'jwk']) {
                try { await crypto.subtle.exportKey(format, entry.key); return 'exported as ' + format; } catch (e) { if (e.name !== 'InvalidAccessError') return 'unexpected ' + e.name; }
              }
              return 'refused: ' + entry.key.usages.join(',');
            }
            """, keySid);
        Assert.Equal("refused: unwrapKey", export);

        // Everything that left the page, and everything it stored.
        await Task.WhenAll(pending.ToArray());
        var storage = await context.StorageStateAsync(new() { IndexedDB = true });
        var webStorage = await page.EvaluateAsync<string>("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])");
        var cookies = string.Join("\n", (await context.CookiesAsync()).Select(c => $"{c.Name}={c.Value}"));

        using var rsa = RSA.Create();
        rsa.ImportFromPem(Encoding.ASCII.GetString(key.Pkcs1));
        var parameters = rsa.ExportParameters(includePrivateParameters: true);
        var pkcs1Der = rsa.ExportRSAPrivateKey();
        var secrets = new Dictionary<string, string>
        {
            ["the PKCS#1 PEM"] = Encoding.ASCII.GetString(key.Pkcs1).Split('\n')[1],
            ["the encrypted PEM"] = Encoding.ASCII.GetString(key.EncryptedPkcs8).Split('\n')[1],
            ["the PKCS#8 DER in base64"] = Convert.ToBase64String(key.Pkcs8Der)[40..120],
            ["the PKCS#1 DER in base64"] = Convert.ToBase64String(pkcs1Der)[40..120],
            ["the modulus in hex"] = Convert.ToHexString(parameters.Modulus!)[..64],
            ["the modulus in lower-case hex"] = Convert.ToHexStringLower(parameters.Modulus!)[..64],
            ["the modulus in base64"] = Convert.ToBase64String(parameters.Modulus!)[..64],
            ["the modulus in base64url"] = Convert.ToBase64String(parameters.Modulus!)[..64].Replace('+', '-').Replace('/', '_'),
            ["the private exponent in base64"] = Convert.ToBase64String(parameters.D!)[..64],
            ["the passphrase"] = passphrase,
            ["the audio's marker"] = "VOICEVAULT-PLAINTEXT-MARKER",
        };
        Assert.True(requests.Count > 5, $"only {requests.Count} requests were seen");
        foreach (var (url, headers, requestBody) in requests)
        {
            var text = url + "\n" + string.Join("\n", headers.Select(h => $"{h.Key}: {h.Value}")) + "\n" + Encoding.Latin1.GetString(requestBody);
            AssertNone(secrets, text, $"the request to {url}");
            Assert.False(Audio.ContainsAnyRun(requestBody, key.Pkcs8Der), $"the request to {url} carries key bytes");
            Assert.False(Audio.ContainsAnyRun(requestBody, pkcs1Der), $"the request to {url} carries key bytes");
            Assert.False(Audio.ContainsAnyRun(requestBody, wav), $"the request to {url} carries audio");
        }
        foreach (var (what, text) in new[] { ("storage state (cookies, localStorage, IndexedDB)", storage), ("web storage", webStorage), ("cookies", cookies) })
        {
            AssertNone(secrets, text, what);
            Assert.False(Audio.ContainsAnyRun(Encoding.Latin1.GetBytes(text), wav), $"{what} holds audio");
        }
        // The storage state did see the remembered entry (the search above looked at something).
        Assert.Contains(keySid, storage, StringComparison.Ordinal);

        // Forget removes it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Forget" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Forget" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Decrypt with remembered key" })).ToHaveCountAsync(0);
        Assert.DoesNotContain(keySid, await context.StorageStateAsync(new() { IndexedDB = true }), StringComparison.Ordinal);
    }

    private static void AssertNone(Dictionary<string, string> secrets, string text, string where)
    {
        foreach (var (name, secret) in secrets)
        {
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} contains {name}");
        }
    }
}
