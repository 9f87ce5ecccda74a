using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// <c>voicevault receive</c> as a customer runs it, with the vault sending its real signed status
/// callbacks: recordings arrive decrypted; forged callbacks are refused; a receiver killed with
/// its queue full finishes every recording once after a restart.
/// </summary>
public sealed class ReceiveCommandTests
{
    private sealed class Receiver(Process process, string url) : IAsyncDisposable
    {
        public string Url => url;

        public Process Process => process;

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<Receiver> StartAsync(VaultServer vault, int port, string baseUrl, string keyring, string outDir)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        var url = $"http://127.0.0.1:{port}/hooks/recordings";
        foreach (var arg in new[] { FetchCommandTests.Tool, "receive", "--listen", $"127.0.0.1:{port}", "--public-url", url, "--out", outDir, "--keyring", keyring, "--base-url", baseUrl })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["TWILIO_ACCOUNT_SID"] = vault.AccountSid;
        start.Environment["TWILIO_AUTH_TOKEN"] = vault.AuthToken;
        start.Environment["TWILIO_API_KEY"] = null;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await http.GetAsync($"http://127.0.0.1:{port}/healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the receiver answers /healthz", TimeSpan.FromSeconds(30));
        return new Receiver(process, url);
    }

    private static async Task<JsonElement> HealthAsync(int port)
    {
        using var http = new HttpClient();
        return JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/healthz")).RootElement.Clone();
    }

    [Fact]
    public async Task Callbacks_become_decrypted_recordings_forgeries_are_refused_and_a_killed_queue_finishes_once()
    {
        await using var vault = await VaultServer.StartAsync();
        var root = Directory.CreateTempSubdirectory("vv-receive-").FullName;
        try
        {
            var (rsa, keySid) = await vault.EnableEncryptionAsync();
            var keyring = Keyring.Open(Path.Combine(root, "keyring"), create: true);
            keyring.Add(System.Text.Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem()), keySid);
            var outDir = Path.Combine(root, "out");
            int port = FreePort();
            var originals = new Dictionary<string, byte[]>();
            // A subaccount's callbacks are signed with its own token, which the receiver learns from the API.
            var sub = await Twilio.Rest.Api.V2010.AccountResource.CreateAsync(friendlyName: "sub", client: vault.Twilio());
            async Task UploadAsync(int n, string callback, Twilio.Rest.Api.V2010.AccountResource? account = null)
            {
                for (int i = 0; i < n; i++)
                {
                    var wav = Audio.Wav(1);
                    var (status, body) = await vault.UploadAsync(account?.Sid ?? vault.AccountSid, account?.AuthToken ?? vault.AuthToken, Audio.CallSid(), wav,
                        "RecordingStatusCallback=" + Uri.EscapeDataString(callback));
                    Assert.Equal(HttpStatusCode.Created, status);
                    originals[body.GetProperty("sid").GetString()!] = wav;
                }
            }
            int Wavs() => Directory.Exists(outDir) ? Directory.EnumerateFiles(outDir, "*.wav", SearchOption.AllDirectories).Count() : 0;

            await using (var receiver = await StartAsync(vault, port, vault.BaseUri.ToString(), Path.Combine(root, "keyring"), outDir))
            {
                await UploadAsync(4, receiver.Url);
                await UploadAsync(1, receiver.Url, sub);
                await Eventually.TrueAsync(() => Wavs() == 5, "five recordings arrive", TimeSpan.FromSeconds(60));
                Assert.Single(Directory.EnumerateFiles(Path.Combine(outDir, sub.Sid), "*.wav", SearchOption.AllDirectories));

                // Forgeries: unsigned, signed with another token, signed for another URL. Nothing is queued.
                using var http = new HttpClient();
                var fields = new Dictionary<string, string>
                {
                    ["AccountSid"] = vault.AccountSid, ["RecordingSid"] = "RE" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                    ["RecordingStatus"] = "completed", ["CallSid"] = Audio.CallSid(),
                };
                foreach (var signature in new[] { null, Core.TwilioSignature.Sign("not-the-token", receiver.Url, fields),
                    Core.TwilioSignature.Sign(vault.AuthToken, "https://elsewhere.example/hooks/recordings", fields) })
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url) { Content = new FormUrlEncodedContent(fields) };
                    if (signature is not null)
                    {
                        request.Headers.Add("X-Twilio-Signature", signature);
                    }
                    Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(request)).StatusCode);
                }
                var health = await HealthAsync(port);
                Assert.Equal(5, health.GetProperty("done").GetInt64() + health.GetProperty("pending").GetInt64());
            }

            // The source down: 20 callbacks queued, the receiver killed, then restarted with the source back.
            int deadPort = FreePort();
            await using (var receiver = await StartAsync(vault, port, $"http://127.0.0.1:{deadPort}", Path.Combine(root, "keyring"), outDir))
            {
                await UploadAsync(20, receiver.Url);
                await Eventually.TrueAsync(async () => (await HealthAsync(port)).GetProperty("pending").GetInt64() == 20, "twenty callbacks queued", TimeSpan.FromSeconds(60));
                receiver.Process.Kill(entireProcessTree: true);
                await receiver.Process.WaitForExitAsync();
            }
            Assert.Equal(5, Wavs());
            await using (var receiver = await StartAsync(vault, port, vault.BaseUri.ToString(), Path.Combine(root, "keyring"), outDir))
            {
                await Eventually.TrueAsync(() => Wavs() == 25, "the queued twenty arrive", TimeSpan.FromSeconds(120));
                var health = await HealthAsync(port);
                Assert.Equal(25, health.GetProperty("done").GetInt64());
                Assert.Equal(0, health.GetProperty("pending").GetInt64());
            }
            var files = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories).Where(f => !f.Contains(".voicevault-receive", StringComparison.Ordinal)).ToList();
            Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith('.'));
            Assert.Equal(25, files.Count(f => f.EndsWith(".json", StringComparison.Ordinal)));
            foreach (var wav in files.Where(f => f.EndsWith(".wav", StringComparison.Ordinal)))
            {
                Assert.Equal(originals[Path.GetFileNameWithoutExtension(wav)], File.ReadAllBytes(wav));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
