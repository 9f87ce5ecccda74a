using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using VoiceVault.Server.Storage.S3;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The media store the server tests run on: <c>VOICEVAULT_TEST_MEDIA</c> = files (default) or s3,
/// with <c>VOICEVAULT_S3_URL</c> and the AWS credential variables of an S3 server that
/// <c>scripts/test.sh</c> starts (a Ceph RGW). On S3 each vault data folder gets its own bucket, so
/// tests are isolated and a restart on the same folder finds its media again.
/// </summary>
internal static class TestMedia
{
    public static bool IsS3 => Environment.GetEnvironmentVariable("VOICEVAULT_TEST_MEDIA") == "s3";

    /// <summary>The S3 server's URL; a clear failure when the test script did not start one.</summary>
    public static string S3Url => Environment.GetEnvironmentVariable("VOICEVAULT_S3_URL") is { Length: > 0 } url
        ? url
        : throw new InvalidOperationException("These tests need an S3 server: run ./scripts/test.sh (it starts one), or start one with " +
            "scripts/s3.sh up and source its env.sh (VOICEVAULT_S3_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).");

    /// <summary>The bucket of a data folder (or any key): S3's rules, lowercase letters and digits.</summary>
    public static string BucketOf(string key) => "vv-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..24];

    public static S3Options OptionsFor(string key, int partSizeMiB = 8) => new()
    {
        ServiceUrl = S3Url,
        Bucket = BucketOf(key),
        ForcePathStyle = true,
        CreateBucket = true,
        PartSizeMiB = partSizeMiB,
    };

    /// <summary>The server arguments that put a vault with this data folder on the media store under test.</summary>
    public static string[] ArgsFor(string dataDir) => IsS3 ? ["--VoiceVault:Media", "s3", .. S3Args(OptionsFor(dataDir))] : [];

    /// <summary>The <c>VoiceVault:S3</c> settings of <paramref name="options"/> as server arguments.</summary>
    public static string[] S3Args(S3Options options) =>
    [
        "--VoiceVault:S3:ServiceUrl", options.ServiceUrl!, "--VoiceVault:S3:Bucket", options.Bucket,
        "--VoiceVault:S3:ForcePathStyle", options.ForcePathStyle ? "true" : "false", "--VoiceVault:S3:CreateBucket", options.CreateBucket ? "true" : "false",
        "--VoiceVault:S3:PartSizeMiB", options.PartSizeMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ];

    /// <summary>
    /// Everything the vault of this data folder holds as media, unfinished writes included: files
    /// under media/ (temporary ones too), or the bucket's objects and unfinished multipart uploads.
    /// </summary>
    public static async Task<List<(string Name, byte[] Content)>> EverythingAsync(string dataDir, bool s3 = false)
    {
        if (!IsS3 && !s3)
        {
            var root = Path.Combine(dataDir, "media");
            return !Directory.Exists(root) ? [] : Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(f => (Path.GetRelativePath(root, f).Replace('\\', '/'), File.ReadAllBytes(f))).ToList();
        }
        using var client = S3MediaStore.CreateClient(OptionsFor(dataDir));
        return await EverythingInBucketAsync(client, BucketOf(dataDir));
    }

    public static async Task<List<(string Name, byte[] Content)>> EverythingInBucketAsync(IAmazonS3 s3, string bucket)
    {
        var found = new List<(string, byte[])>();
        if (!await ExistsAsync(s3, bucket))
        {
            return found;
        }
        var listing = new ListObjectsV2Request { BucketName = bucket };
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(listing);
            foreach (var item in page.S3Objects ?? [])
            {
                using var response = await s3.GetObjectAsync(bucket, item.Key);
                using var copy = new MemoryStream();
                await response.ResponseStream.CopyToAsync(copy);
                found.Add((item.Key, copy.ToArray()));
            }
            listing.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        foreach (var upload in await UnfinishedUploadsAsync(s3, bucket))
        {
            // An unfinished upload's parts are invisible to GETs but kept (and billed) until aborted.
            found.Add(($"{upload.Key} (unfinished upload {upload.UploadId})", []));
        }
        return found;
    }

    /// <summary>The bucket's multipart uploads that were started and neither completed nor aborted.</summary>
    public static async Task<List<MultipartUpload>> UnfinishedUploadsAsync(IAmazonS3 s3, string bucket) =>
        (await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket })).MultipartUploads ?? [];

    private static async Task<bool> ExistsAsync(IAmazonS3 s3, string bucket)
    {
        try
        {
            await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, MaxKeys = 1 });
            return true;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
            return false;
        }
    }

    /// <summary>Removes the bucket of this data folder (or key) with everything in it.</summary>
    public static async Task DropAsync(string key, bool force = false)
    {
        if (!IsS3 && !force)
        {
            return;
        }
        using var s3 = S3MediaStore.CreateClient(OptionsFor(key));
        var bucket = BucketOf(key);
        if (!await ExistsAsync(s3, bucket))
        {
            return;
        }
        foreach (var upload in await UnfinishedUploadsAsync(s3, bucket))
        {
            await s3.AbortMultipartUploadAsync(bucket, upload.Key, upload.UploadId);
        }
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
            foreach (var item in page.S3Objects ?? [])
            {
                await s3.DeleteObjectAsync(bucket, item.Key);
            }
        }
        while (page.IsTruncated == true);
        await s3.DeleteBucketAsync(bucket);
    }
}
