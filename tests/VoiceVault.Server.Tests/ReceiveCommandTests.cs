using System.Diagnostics;
using System.Net;
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
    /// <summary>A running receiver, on a port of its own; its health as it reports it.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly Process process;
        private readonly int port;

        public Receiver(Process process, int port)
        {
            this.process = process;
            this.port = port;
            // Drained, so that its log never fills the pipe and stalls it.
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Url => $"http://127.0.0.1:{port}/hooks/recordings";

        public async Task<JsonElement> HealthAsync()
        {
            using var http = new HttpClient();
            return JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/healthz")).RootElement.Clone();
        }

        public async Task KillAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await KillAsync();
            process.Dispose();
        }
    }

    private static async Task<Receiver> StartAsync(VaultServer vault, string baseUrl, string keyring, string outDir)
    {
        // A fresh port each time: a port given up by a killed receiver may be taken by another
        // test's server at once, and that one answers /healthz too.
        int port = TestHttp.FreePort();
        var receiver = new Receiver(TestProcess.Start("dotnet", [TestProcess.Voicevault, "receive", "--listen", $"127.0.0.1:{port}",
            "--public-url", $"http://127.0.0.1:{port}/hooks/recordings", "--out", outDir, "--keyring", keyring, "--base-url", baseUrl],
            TestProcess.TwilioEnvironment(vault.AccountSid, vault.AuthToken)), port);
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                // The receiver's own health: with its queue's counts, which no other server reports.
                return (await receiver.HealthAsync()).TryGetProperty("pending", out _);
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the receiver answers /healthz", TimeSpan.FromSeconds(30));
        return receiver;
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

            await using (var receiver = await StartAsync(vault, vault.BaseUri.ToString(), Path.Combine(root, "keyring"), outDir))
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
                var health = await receiver.HealthAsync();
                Assert.Equal(5, health.GetProperty("done").GetInt64() + health.GetProperty("pending").GetInt64());
            }

            // The source down: 20 callbacks queued, the receiver killed, then restarted with the source back.
            int deadPort = TestHttp.FreePort();
            await using (var receiver = await StartAsync(vault, $"http://127.0.0.1:{deadPort}", Path.Combine(root, "keyring"), outDir))
            {
                await UploadAsync(20, receiver.Url);
                await Eventually.TrueAsync(async () => (await receiver.HealthAsync()).GetProperty("pending").GetInt64() == 20, "twenty callbacks queued", TimeSpan.FromSeconds(60));
                await receiver.KillAsync();
            }
            Assert.Equal(5, Wavs());
            await using (var receiver = await StartAsync(vault, vault.BaseUri.ToString(), Path.Combine(root, "keyring"), outDir))
            {
                await Eventually.TrueAsync(() => Wavs() == 25, "the queued twenty arrive", TimeSpan.FromSeconds(120));
                // A file is in place a moment before its queue entry is marked done.
                await Eventually.TrueAsync(async () => (await receiver.HealthAsync()).GetProperty("pending").GetInt64() == 0, "the queue drained", TimeSpan.FromSeconds(30));
                var health = await receiver.HealthAsync();
                Assert.Equal(25, health.GetProperty("done").GetInt64());
                Assert.Equal(25, Wavs());
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
