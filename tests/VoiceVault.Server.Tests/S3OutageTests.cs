using System.Net;
using System.Text.Json;
using Amazon.S3.Model;
using Twilio.Rest.Api.V2010.Account;
using VoiceVault.Server.Storage.S3;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The S3 server going away in the middle of an upload (a gateway of its own, from
/// scripts/s3.sh, killed and started again): the upload fails cleanly with 16104, and once the
/// store is back nothing of it is left — no object, no unfinished upload.
/// </summary>
public sealed class S3OutageTests
{
    private static async Task RunAsync(string file, params string[] args)
    {
        // The same credentials as the shared test gateway's: the vault takes them from the environment.
        var (exit, output) = await TestProcess.RunAsync(file, args, new Dictionary<string, string?>
        {
            ["S3_ACCESS_KEY"] = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"),
            ["S3_SECRET_KEY"] = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"),
        });
        Assert.True(exit == 0, $"{file} {string.Join(' ', args)}: {output}");
    }

    [Fact]
    public async Task An_upload_whose_S3_server_dies_fails_with_16104_and_leaves_nothing_once_it_is_back()
    {
        _ = TestMedia.S3Url; // a clear failure when the test script did not set up S3 credentials
        var gateway = Path.Combine(Path.GetTempPath(), "vv-s3-outage-" + Guid.NewGuid().ToString("N")[..8]);
        var dataDir = Directory.CreateTempSubdirectory("vv-outage-").FullName;
        await RunAsync("bash", TestProcess.Script("s3.sh"), "up", gateway);
        try
        {
            var url = File.ReadAllLines(Path.Combine(gateway, "env.sh")).Single(l => l.StartsWith("export VOICEVAULT_S3_URL=", StringComparison.Ordinal)).Split('=', 2)[1];
            var options = new S3Options { ServiceUrl = url, Bucket = "outage", ForcePathStyle = true, CreateBucket = true, PartSizeMiB = 5 };
            await using var vault = await VaultServer.StartAsync(dataDir, extraArgs: ["--VoiceVault:Media", "s3", .. TestMedia.S3Args(options),
                "--VoiceVault:InstanceLeaseSeconds", "3"]);
            await using var receiver = await CallbackReceiver.StartAsync();
            using var s3 = S3MediaStore.CreateClient(options);
            using var http = vault.Http(vault.AccountSid, vault.AuthToken);
            var wav = Audio.Wav(800);   // 12.8 MB: a multipart upload of 5 MiB parts
            var upload = new HeldUpload(http, $"/v1/Ingest/Calls/{Audio.CallSid()}/Recording?RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}&RecordingStatusCallbackEvent=failed");
            await upload.SendAsync(wav.AsMemory(0, 6_000_000));
            await Eventually.TrueAsync(async () => (await TestMedia.UnfinishedUploadsAsync(s3, "outage")).Count == 1,
                "the upload's first part is in the store");

            // The gateway dies; the rest of the upload arrives.
            var pid = File.ReadAllText(Path.Combine(gateway, "run", "client.rgw.vault.pid")).Trim();
            await RunAsync("kill", "-KILL", pid);
            var (status, body) = await upload.FinishAsync(wav.AsMemory(6_000_000));
            Assert.Equal(HttpStatusCode.Created, status);
            Assert.Equal("failed", body.GetProperty("status").GetString());
            Assert.Equal(16104, body.GetProperty("error_code").GetInt32());
            var callback = Assert.Single(await receiver.WaitForAsync(1));
            Assert.Equal("16104", callback.Parameters["ErrorCode"]);
            var notification = Assert.Single(await NotificationResource.ReadAsync(client: vault.Twilio()));
            Assert.Equal("16104", notification.ErrorCode);

            // The gateway comes back: nothing of the upload is readable, and its parts are swept.
            await RunAsync("radosgw", "-c", Path.Combine(gateway, "ceph.conf"), "-n", "client.rgw.vault");
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    var listed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "outage" });
                    return (listed.S3Objects ?? []).Count == 0 && (await TestMedia.UnfinishedUploadsAsync(s3, "outage")).Count == 0;
                }
                catch (Exception e) when (e is HttpRequestException or Amazon.Runtime.AmazonServiceException)
                {
                    return false; // not answering yet
                }
            }, "no object and no unfinished upload once the gateway is back", TimeSpan.FromSeconds(60));
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{body.GetProperty("sid").GetString()}")).StatusCode);
        }
        finally
        {
            await RunAsync("bash", TestProcess.Script("s3.sh"), "down", gateway);
        }
    }
}
