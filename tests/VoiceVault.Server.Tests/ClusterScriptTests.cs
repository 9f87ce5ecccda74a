using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Twilio.Rest.Accounts.V1.Credential;
using Twilio.Rest.Api.V2010;
using Twilio.Rest.Api.V2010.Account;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// scripts/run-cluster.sh as a user runs it: PostgreSQL, a Ceph RGW, three vault processes and
/// HAProxy (round robin) on loopback; the Twilio SDK and plain HTTP through the one URL it prints.
/// </summary>
public sealed class ClusterScriptTests
{
    [Fact]
    public async Task The_cluster_script_serves_the_Twilio_API_through_HAProxy_from_three_instances_and_removes_everything_when_stopped()
    {
        var clusterDir = Path.Combine(Path.GetTempPath(), "vv-cluster-" + Guid.NewGuid().ToString("N")[..8]);
        var port = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        port.Start();
        int clusterPort = ((IPEndPoint)port.LocalEndpoint).Port;
        port.Stop();
        var start = new ProcessStartInfo("bash", [TestProcess.Script("run-cluster.sh"), "3"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["CLUSTER_PORT"] = clusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture), ["CLUSTER_DIR"] = clusterDir },
        };
        using var script = Process.Start(start)!;
        var errors = script.StandardError.ReadToEndAsync();
        try
        {
            var printed = new Dictionary<string, string>();
            while (!printed.ContainsKey("AuthToken"))
            {
                var line = await script.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(4))
                    ?? throw new InvalidOperationException("run-cluster.sh ended before printing the cluster: " + await errors);
                if (line.Split(':', 2) is [var name, var value] && name is "URL" or "AccountSid" or "AuthToken")
                {
                    printed[name] = value.Trim();
                }
            }
            var url = new Uri(printed["URL"]);
            Assert.Equal(clusterPort, url.Port);
            var (sid, token) = (printed["AccountSid"], printed["AuthToken"]);

            // Every request below lands on the next instance in turn.
            var main = VaultServer.TwilioAt(url, sid, token);
            var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: main);
            var asSub = VaultServer.TwilioAt(url, sub.Sid, sub.AuthToken);
            using var rsa = RSA.Create(2048);
            var key = await PublicKeyResource.CreateAsync(publicKey: rsa.ExportSubjectPublicKeyInfoPem(), client: asSub);
            using var http = TestHttp.Client(url, sub.Sid, sub.AuthToken);
            (await http.PostAsync($"/2010-04-01/Accounts/{sub.Sid}/RecordingEncryption.json",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["Enabled"] = "true", ["PublicKeySid"] = key.Sid }))).EnsureSuccessStatusCode();
            await using var receiver = await CallbackReceiver.StartAsync();
            var wavs = new Dictionary<string, byte[]>();
            for (int i = 0; i < 6; i++)
            {
                var wav = Audio.Wav(1 + i);
                var response = await http.PutAsync($"/v1/Ingest/Calls/{Audio.CallSid()}/Recording?RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}", new ByteArrayContent(wav));
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                wavs[JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("sid").GetString()!] = wav;
            }
            var listed = (await RecordingResource.ReadAsync(client: asSub)).ToList();
            Assert.Equal(wavs.Keys.Order(), listed.Select(r => r.Sid).Order());
            foreach (var recording in listed)
            {
                var json = await http.GetStringAsync($"/2010-04-01/Accounts/{sub.Sid}/Recordings/{recording.Sid}.json");
                var stored = await http.GetByteArrayAsync($"/2010-04-01/Accounts/{sub.Sid}/Recordings/{recording.Sid}");
                Assert.Equal(wavs[recording.Sid], Customer.Decrypt(rsa, EncryptionDetails.Parse(json), stored));
            }
            // Each completed callback once, from whichever instance stored the recording, signed with the subaccount's token.
            var callbacks = await receiver.WaitForAsync(6);
            Assert.Equal(wavs.Keys.Order(), callbacks.Select(c => c.Parameters["RecordingSid"]).Order());
            Assert.All(callbacks, c => Assert.True(new Twilio.Security.RequestValidator(sub.AuthToken).Validate(c.Url, c.Parameters, c.Signature)));
            Assert.True(await RecordingResource.DeleteAsync(pathSid: listed[0].Sid, client: asSub));
            Assert.Equal(5, (await RecordingResource.ReadAsync(client: asSub)).Count());
            Assert.Equal(6, receiver.Requests.Count);
        }
        finally
        {
            if (!script.HasExited)
            {
                Process.Start("kill", ["-TERM", script.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            }
            Assert.True(script.WaitForExit(TimeSpan.FromSeconds(60)), "run-cluster.sh did not stop on SIGTERM");
        }
        Assert.False(Directory.Exists(clusterDir), "run-cluster.sh left its folder behind");
    }
}
