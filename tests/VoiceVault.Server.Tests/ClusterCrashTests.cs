using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Two vault processes, each with its own data folder and spool, on one PostgreSQL schema, one S3
/// bucket and one master key, behind HAProxy; uploads and live calls go through the balancer while
/// one instance is killed with SIGKILL. Always on PostgreSQL + S3, whatever the suite runs on: that
/// is what several instances share.
/// </summary>
public sealed class ClusterCrashTests
{
    // A callback committed by the instance that died is delivered by another once the dead one's
    // claim on it runs out (RecordingLifecycle.CallbackLease, 30 s): at least once across crashes.
    private static readonly TimeSpan CallbackTakeover = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, string> AllEvents = new() { ["RecordingStatusCallbackEvent"] = "in-progress completed absent failed" };

    private sealed record Upload(string CallSid, byte[] Wav)
    {
        public HttpStatusCode? Status { get; set; }
        public string? RecordingSid { get; set; }
    }

    [Fact]
    public async Task Kill_9_of_one_instance_under_upload_and_live_load_keeps_every_acknowledged_upload_and_ends_the_rest_once()
    {
        var key = Directory.CreateTempSubdirectory("vv-crash-").FullName;
        var folderA = Directory.CreateTempSubdirectory("vv-crash-a-").FullName;
        var folderB = Directory.CreateTempSubdirectory("vv-crash-b-").FullName;
        var (sid, token) = ("AC" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        var options = TestMedia.OptionsFor(key);
        string[] shared =
        [
            "--VoiceVault:Database", "postgres", "--ConnectionStrings:VoiceVault", TestDatabase.SchemaConnection(key),
            "--VoiceVault:Media", "s3", .. TestMedia.S3Args(options),
            "--VoiceVault:MasterKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), "--VoiceVault:InstanceLeaseSeconds", "3",
        ];
        await using var receiver = await CallbackReceiver.StartAsync();
        var callbacks = $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}&RecordingStatusCallbackEvent=completed%20failed";
        var a = await VaultProcess.StartAsync(folderA, sid, token, [.. shared, "--VoiceVault:InstanceId", "a"]);
        try
        {
            using var b = await VaultProcess.StartAsync(folderB, sid, token, [.. shared, "--VoiceVault:InstanceId", "b"]);
            using var balancer = await Balancer.StartAsync([a.BaseUri, b.BaseUri], key + "/haproxy.cfg");
            using var http = TestHttp.Client(balancer.Url, sid, token);
            using var rsa = RSA.Create(2048);
            var credential = await http.PostAsync("/v1/Credentials/PublicKeys", new FormUrlEncodedContent(new Dictionary<string, string> { ["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem() }));
            var keySid = JsonDocument.Parse(await credential.Content.ReadAsStringAsync()).RootElement.GetProperty("sid").GetString()!;
            (await http.PostAsync($"/2010-04-01/Accounts/{sid}/RecordingEncryption.json",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["Enabled"] = "true", ["PublicKeySid"] = keySid }))).EnsureSuccessStatusCode();

            // Live calls through the balancer: they land on both instances.
            var frame = MediaStream.Frame();
            var streams = new List<MediaStream>();
            for (int i = 0; i < 6; i++)
            {
                var stream = await MediaStream.ConnectAsync(balancer.Url, sid, token);
                await stream.StartAsync(new(AllEvents) { ["RecordingStatusCallback"] = receiver.Url });
                streams.Add(stream);
            }
            for (int t = 0; t < 50; t++)
            {
                foreach (var stream in streams)
                {
                    await stream.MediaAsync("inbound", t * 20, frame);
                }
            }
            await receiver.WaitForAsync(6);
            var onA = (await TestDatabase.ScalarAsync(key, "SELECT string_agg(call_sid, ',') FROM live_calls WHERE instance = 'a'", force: true))?.Split(',') ?? [];
            Assert.InRange(onA.Length, 1, 5);

            // Two uploads that A is in the middle of when it dies, and uploads through the balancer all along.
            var cutOff = new List<(Upload Upload, HeldUpload Held)>();
            using var toA = TestHttp.Client(a.BaseUri, sid, token);
            for (int i = 0; i < 2; i++)
            {
                var upload = new Upload(Audio.CallSid(), Audio.Wav(30));
                var held = new HeldUpload(toA, $"/v1/Ingest/Calls/{upload.CallSid}/Recording?{callbacks}", upload.Wav.Length);
                await held.SendAsync(upload.Wav.AsMemory(0, upload.Wav.Length / 2));
                cutOff.Add((upload, held));
            }
            await Eventually.TrueAsync(async () => await TestDatabase.ScalarAsync(key, "SELECT COUNT(*) FROM recordings JOIN recording_owners ON recording_sid = sid WHERE instance = 'a' AND call_sid IN ('" +
                string.Join("','", cutOff.Select(c => c.Upload.CallSid)) + "')", force: true) == "2", "A has started both uploads");

            var uploads = new ConcurrentQueue<Upload>();
            using var stop = new CancellationTokenSource();
            var loops = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                using var client = TestHttp.Client(balancer.Url, sid, token);
                while (!stop.IsCancellationRequested)
                {
                    var upload = new Upload(Audio.CallSid(), Audio.Wav(4));
                    uploads.Enqueue(upload);
                    try
                    {
                        using var response = await client.PutAsync($"/v1/Ingest/Calls/{upload.CallSid}/Recording?{callbacks}",
                            new ByteArrayContent(upload.Wav));
                        upload.Status = response.StatusCode;
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            upload.RecordingSid = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("sid").GetString();
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // Cut off with the instance: no answer.
                    }
                }
            })).ToList();
            await Eventually.TrueAsync(() => uploads.Count(u => u.Status == HttpStatusCode.Created) >= 20, "20 uploads stored before the kill");

            a.Signal("KILL");
            Assert.True(a.WaitForExit(TimeSpan.FromSeconds(10)));
            int before = uploads.Count(u => u.Status == HttpStatusCode.Created);
            await Eventually.TrueAsync(() => uploads.Count(u => u.Status == HttpStatusCode.Created) >= before + 20, "20 more uploads stored by the survivor");
            await stop.CancelAsync();
            await Task.WhenAll(loops);
            foreach (var (_, held) in cutOff)
            {
                // The client gives up on a server that stopped answering: no 201 ever came.
                await held.AbandonAsync(new IOException("the client gave up"));
            }

            // B's calls end normally; A's sockets died with it.
            foreach (var stream in streams.Where(s => !onA.Contains(s.CallSid)))
            {
                await stream.StopAsync();
            }
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }

            // B takes over what A left unfinished once A's lease runs out: nothing stays in progress.
            await Eventually.TrueAsync(async () => await TestDatabase.ScalarAsync(key,
                "SELECT COUNT(*) FROM recordings WHERE status NOT IN ('completed', 'failed', 'absent')", force: true) == "0",
                "every recording has ended", TimeSpan.FromSeconds(60));

            var all = uploads.Concat(cutOff.Select(c => c.Upload)).ToList();
            await Eventually.TrueAsync(() => receiver.Requests.Count(r => r.Parameters["RecordingStatus"] != "in-progress") >= all.Count(u => u.Status == HttpStatusCode.Created) + streams.Count,
                "the callbacks of every ended recording", CallbackTakeover);
            using var survivor = TestHttp.Client(b.BaseUri, sid, token);
            foreach (var upload in all)
            {
                var listed = JsonDocument.Parse(await survivor.GetStringAsync($"/2010-04-01/Accounts/{sid}/Calls/{upload.CallSid}/Recordings.json"))
                    .RootElement.GetProperty("recordings").EnumerateArray().Select(r => r.Clone()).ToList();
                if (upload.Status == HttpStatusCode.Created)
                {
                    // Acknowledged: stored, downloadable from the survivor, decrypts to exactly what was sent.
                    var recording = Assert.Single(listed);
                    Assert.Equal(upload.RecordingSid, recording.GetProperty("sid").GetString());
                    Assert.Equal("completed", recording.GetProperty("status").GetString());
                    var stored = await survivor.GetByteArrayAsync($"/2010-04-01/Accounts/{sid}/Recordings/{upload.RecordingSid}");
                    Assert.Equal(upload.Wav, Customer.Decrypt(rsa, EncryptionDetails.Parse(recording.GetRawText()), stored));
                }
                else if (listed.Count > 0 || cutOff.Any(c => c.Upload == upload))
                {
                    // Cut off: failed, 16104, with its callback — or, when A had stored it and died
                    // before its 201 left, completed, whole, with its callback.
                    var recording = Assert.Single(listed);
                    var sidOf = recording.GetProperty("sid").GetString();
                    var status = recording.GetProperty("status").GetString();
                    if (status == "completed")
                    {
                        var stored = await survivor.GetByteArrayAsync($"/2010-04-01/Accounts/{sid}/Recordings/{sidOf}");
                        Assert.Equal(upload.Wav, Customer.Decrypt(rsa, EncryptionDetails.Parse(recording.GetRawText()), stored));
                    }
                    else
                    {
                        Assert.Equal(("failed", 16104), (status, recording.GetProperty("error_code").GetInt32()));
                    }
                    await Eventually.TrueAsync(() => receiver.Requests.Any(r => r.Parameters["RecordingSid"] == sidOf && r.Parameters["RecordingStatus"] == status),
                        $"the {status} callback of {sidOf}", CallbackTakeover);
                }
            }
            Assert.All(cutOff, c => Assert.Null(c.Upload.Status));

            // A's live recordings end failed/16104 via B, once each; B's complete. A callback A had
            // sent but not yet marked delivered when it died is sent again by B (at least once
            // across crashes), so elsewhere a repeat may occur — never a different outcome.
            var terminal = receiver.Requests.Where(r => r.Parameters["RecordingStatus"] != "in-progress").ToList();
            Assert.All(terminal.GroupBy(r => r.Parameters["RecordingSid"]), g => Assert.Single(g.Select(r => r.Parameters["RecordingStatus"]).Distinct()));
            foreach (var stream in streams)
            {
                var ended = Assert.Single(terminal, r => r.Parameters["CallSid"] == stream.CallSid);
                if (onA.Contains(stream.CallSid))
                {
                    Assert.Equal(("failed", "16104"), (ended.Parameters["RecordingStatus"], ended.Parameters["ErrorCode"]));
                }
                else
                {
                    Assert.Equal("completed", ended.Parameters["RecordingStatus"]);
                }
            }

            // Nothing readable anywhere: the bucket holds exactly the completed recordings and no
            // unfinished upload (once swept); no audio in the database; A's spools are ciphertext
            // whose keys died with it; B's spool is empty.
            var completed = await TestDatabase.ScalarAsync(key, "SELECT COUNT(*) FROM recordings WHERE status = 'completed'", force: true);
            await Eventually.TrueAsync(async () =>
            {
                var everything = await TestMedia.EverythingAsync(key, s3: true);
                return everything.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) == completed && everything.All(o => o.Content.Length > 0);
            }, "the bucket holds the completed recordings only", TimeSpan.FromSeconds(30));
            var plaintext = all.SelectMany(u => u.Wav[44..]).ToArray();
            Assert.False(Audio.ContainsAnyRun(TestDatabase.Dump(key), plaintext), "the database holds audio");
            foreach (var file in Directory.EnumerateFiles(folderA, "*", SearchOption.AllDirectories))
            {
                var content = File.ReadAllBytes(file);
                Assert.False(content.AsSpan().IndexOf(frame.AsSpan(0, 64)) >= 0, $"{file} holds μ-law audio");
                Assert.False(Audio.ContainsAnyRun(content, plaintext), $"{file} holds uploaded audio");
            }
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(folderB, "spool")));
        }
        finally
        {
            a.Dispose();
            TestDatabase.Drop(key, force: true);
            await TestMedia.DropAsync(key, force: true);
            foreach (var folder in new[] { key, folderA, folderB })
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
