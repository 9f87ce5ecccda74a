using System.Net;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using VoiceVault.Server.Storage.S3;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Unfinished multipart uploads the vault could not abort when it gave up a write (the store was
/// unreachable then) are swept by the instance lease: those of recordings that ended or never
/// existed go; those of recordings being written stay.
/// </summary>
public sealed class S3SweepTests
{
    private static async Task<List<string>> UnfinishedKeysAsync(IAmazonS3 s3, string bucket) =>
        (await TestMedia.UnfinishedUploadsAsync(s3, bucket)).Select(u => u.Key).Order(StringComparer.Ordinal).ToList();

    private static async Task OrphanAsync(IAmazonS3 s3, string bucket, string key)
    {
        var upload = await s3.InitiateMultipartUploadAsync(bucket, key);
        await s3.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = key, UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(new byte[1000]) });
    }

    [Fact]
    public async Task Unfinished_uploads_of_ended_or_unknown_recordings_are_aborted_and_those_being_written_are_not()
    {
        var dataDir = Directory.CreateTempSubdirectory("vv-sweep-").FullName;
        var options = TestMedia.OptionsFor(dataDir);
        try
        {
            await using var vault = await VaultServer.StartAsync(dataDir, extraArgs: ["--VoiceVault:Media", "s3", .. TestMedia.S3Args(options with { PartSizeMiB = 5 }),
                "--VoiceVault:InstanceLeaseSeconds", "3"]);
            using var s3 = S3MediaStore.CreateClient(options);
            var ac = vault.AccountSid;
            // A completed recording, with a stray unfinished upload of its key (its object must stay), and one of a key no recording has.
            var small = Audio.Wav(1);
            var completed = (await vault.UploadAsync(ac, vault.AuthToken, Audio.CallSid(), small)).Body.GetProperty("sid").GetString()!;
            await OrphanAsync(s3, options.Bucket, $"{ac}/{completed}");
            await OrphanAsync(s3, options.Bucket, $"{ac}/RE00000000000000000000000000000000");

            // An upload in progress, already in its multipart upload.
            using var http = vault.Http(ac, vault.AuthToken);
            var wav = Audio.Wav(800);   // 12.8 MB: three 5 MiB parts
            var upload = new HeldUpload(http, $"/v1/Ingest/Calls/{Audio.CallSid()}/Recording");
            await upload.SendAsync(wav.AsMemory(0, 11_000_000));
            string? writing = null;
            await Eventually.TrueAsync(async () => (writing = (await UnfinishedKeysAsync(s3, options.Bucket)).FirstOrDefault(k => k != $"{ac}/{completed}" && !k.EndsWith("RE00000000000000000000000000000000", StringComparison.Ordinal))) is not null,
                "the upload in progress has a multipart upload");
            // Started after it, and last in the store's listing: once this one is swept, a sweep has considered the upload in progress too.
            await OrphanAsync(s3, options.Bucket, $"{ac}/REzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");

            await Eventually.TrueAsync(async () => (await UnfinishedKeysAsync(s3, options.Bucket)).SequenceEqual([writing!]),
                "only the upload in progress is left unfinished", TimeSpan.FromSeconds(30));
            var (status, body) = await upload.FinishAsync(wav.AsMemory(11_000_000));
            Assert.Equal(HttpStatusCode.Created, status);
            Assert.Equal("completed", body.GetProperty("status").GetString());
            Assert.Equal(wav, await http.GetByteArrayAsync($"/2010-04-01/Accounts/{ac}/Recordings/{body.GetProperty("sid").GetString()}.wav"));
            Assert.Equal(small, await http.GetByteArrayAsync($"/2010-04-01/Accounts/{ac}/Recordings/{completed}.wav"));
            Assert.Empty(await UnfinishedKeysAsync(s3, options.Bucket));
        }
        finally
        {
            await TestMedia.DropAsync(dataDir, force: true);
        }
    }
}
