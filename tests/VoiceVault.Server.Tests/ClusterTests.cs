using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Several instances of one vault (separate processes on one database, one media store, one master
/// key) behind a balancer that sends each request anywhere: whichever instance a request reaches,
/// it is carried out as if there were one.
/// </summary>
public sealed class ClusterTests
{
    private static async Task<JsonElement> PostAsync(VaultProcess vault, string user, string password, string path, Dictionary<string, string> form, HttpStatusCode expected)
    {
        using var http = vault.Http(user, password);
        var response = await http.PostAsync(path, new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Recording_control_sent_to_another_instance_is_carried_out_by_the_one_holding_the_stream()
    {
        using var instance = new VaultProcess.Instance();
        using var a = await instance.StartAsync("--VoiceVault:InstanceId", "a");
        using var b = await instance.StartAsync("--VoiceVault:InstanceId", "b");
        var (sid, token) = (instance.Sid, instance.Token);
        using var rsa = RSA.Create(2048);
        var key = await PostAsync(b, sid, token, "/v1/Credentials/PublicKeys", new() { ["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem() }, HttpStatusCode.Created);
        await PostAsync(b, sid, token, $"/2010-04-01/Accounts/{sid}/RecordingEncryption.json",
            new() { ["Enabled"] = "true", ["PublicKeySid"] = key.GetProperty("sid").GetString()! }, HttpStatusCode.OK);
        // A says where it can be reached once it listens.
        await Eventually.TrueAsync(async () => await TestDatabase.ScalarAsync(instance.DataDir, "SELECT address FROM instances WHERE id = 'a'") is { Length: > 0 },
            "instance a registers its address");

        // The call streams into A; every control request goes to B.
        await using var stream = await MediaStream.ConnectAsync(a.BaseUri, sid, token);
        await stream.StartAsync(new() { ["Record"] = "false" });
        var frames = Enumerable.Range(0, 200).Select(_ => MediaStream.Frame()).ToArray();
        async Task SendAsync(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                await stream.MediaAsync("inbound", i * 20, frames[i]);
            }
            await VaultServer.WaitForFramesAsync([a.BaseUri], to);
        }
        var calls = $"/2010-04-01/Accounts/{sid}/Calls/{stream.CallSid}/Recordings";
        await SendAsync(0, 50);
        var started = await PostAsync(b, sid, token, calls + ".json", [], HttpStatusCode.Created);
        Assert.Equal("in-progress", started.GetProperty("status").GetString());
        var recordingSid = started.GetProperty("sid").GetString()!;
        await SendAsync(50, 100);
        var paused = await PostAsync(b, sid, token, $"{calls}/{recordingSid}.json", new() { ["Status"] = "paused", ["PauseBehavior"] = "skip" }, HttpStatusCode.OK);
        Assert.Equal("paused", paused.GetProperty("status").GetString());
        await SendAsync(100, 150);
        var resumed = await PostAsync(b, sid, token, $"{calls}/{recordingSid}.json", new() { ["Status"] = "in-progress" }, HttpStatusCode.OK);
        Assert.Equal("in-progress", resumed.GetProperty("status").GetString());
        await SendAsync(150, 200);
        var stopped = await PostAsync(b, sid, token, $"{calls}/{recordingSid}.json", new() { ["Status"] = "stopped" }, HttpStatusCode.OK);
        Assert.Equal("completed", stopped.GetProperty("status").GetString());

        // B serves what A stored: exactly the frames recorded, paused second skipped.
        using var http = b.Http(sid, token);
        var recording = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{sid}/Recordings/{recordingSid}.json")).RootElement;
        var stored = await http.GetByteArrayAsync($"/2010-04-01/Accounts/{sid}/Recordings/{recordingSid}");
        Assert.Equal(LiveRecordingControlTests.Mono(frames[50..100].Concat(frames[150..200])), Customer.Decrypt(rsa, EncryptionDetails.Parse(recording.GetRawText()), stored));

        // The Twilio SDK with no option set sends no body at all; through HAProxy to the instance
        // that does not hold the call, it starts a recording as it does on the one that does.
        var haproxyConfig = Path.Combine(instance.DataDir, "haproxy-b.cfg");
        using (var balancer = await Balancer.StartAsync([b.BaseUri], haproxyConfig))
        {
            var viaSdk = await Twilio.Rest.Api.V2010.Account.Call.RecordingResource.CreateAsync(pathCallSid: stream.CallSid,
                client: VaultServer.TwilioAt(balancer.Url, sid, token));
            Assert.Equal(Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.InProgress, viaSdk.Status);
            using var bare = TestHttp.Client(balancer.Url, sid, token);
            var noBody = await bare.PostAsync(calls + ".json", null);
            Assert.True(noBody.StatusCode == HttpStatusCode.Created, await noBody.Content.ReadAsStringAsync());
        }

        // A request already sent on once is answered where it lands, and a call no instance holds is 21220 everywhere.
        var second = await PostAsync(b, sid, token, calls + ".json", [], HttpStatusCode.Created);
        Assert.Equal("in-progress", second.GetProperty("status").GetString());
        using var loop = b.Http(sid, token);
        loop.DefaultRequestHeaders.Add("X-VoiceVault-Forwarded-By", "a");
        var answered = await loop.PostAsync(calls + ".json", new FormUrlEncodedContent([]));
        Assert.Equal(21220, JsonDocument.Parse(await answered.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
        await stream.StopAsync();
        await Eventually.TrueAsync(async () => await TestDatabase.ScalarAsync(instance.DataDir, "SELECT COUNT(*) FROM live_calls") == "0", "the ended call is forgotten");
        var ended = await PostAsync(b, sid, token, calls + ".json", [], HttpStatusCode.BadRequest);
        Assert.Equal(21220, ended.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_deleted_API_key_or_suspended_account_is_refused_at_once_by_every_instance()
    {
        using var instance = new VaultProcess.Instance();
        using var a = await instance.StartAsync("--VoiceVault:InstanceId", "a");
        using var b = await instance.StartAsync("--VoiceVault:InstanceId", "b");
        var sub = await PostAsync(a, instance.Sid, instance.Token, "/2010-04-01/Accounts.json", new() { ["FriendlyName"] = "tenant" }, HttpStatusCode.Created);
        var (subSid, subToken) = (sub.GetProperty("sid").GetString()!, sub.GetProperty("auth_token").GetString()!);
        var key = await PostAsync(a, subSid, subToken, $"/2010-04-01/Accounts/{subSid}/Keys.json", new() { ["FriendlyName"] = "k" }, HttpStatusCode.Created);
        var (keySid, secret) = (key.GetProperty("sid").GetString()!, key.GetProperty("secret").GetString()!);
        async Task<HttpStatusCode> OnBAsync(string user, string password)
        {
            using var http = b.Http(user, password);
            return (await http.GetAsync($"/2010-04-01/Accounts/{subSid}.json")).StatusCode;
        }
        // B has verified both (and caches them for 30 s).
        Assert.Equal(HttpStatusCode.OK, await OnBAsync(keySid, secret));
        Assert.Equal(HttpStatusCode.OK, await OnBAsync(subSid, subToken));

        // Revoked through A: B refuses within a moment, not when its cache runs out.
        using (var http = a.Http(subSid, subToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/2010-04-01/Accounts/{subSid}/Keys/{keySid}.json")).StatusCode);
        }
        await Eventually.TrueAsync(async () => await OnBAsync(keySid, secret) == HttpStatusCode.Unauthorized, "B refuses the deleted key", TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, await OnBAsync(subSid, subToken));
        await PostAsync(a, instance.Sid, instance.Token, $"/2010-04-01/Accounts/{subSid}.json", new() { ["Status"] = "suspended" }, HttpStatusCode.OK);
        await Eventually.TrueAsync(async () => await OnBAsync(subSid, subToken) == HttpStatusCode.Unauthorized, "B refuses the suspended account", TimeSpan.FromSeconds(5));
    }
}
