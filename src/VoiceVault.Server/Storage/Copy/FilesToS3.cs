using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using VoiceVault.Server.Storage.S3;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Copy;

/// <summary>What copying the media did.</summary>
public sealed record MediaCopy(int Copied, int AlreadyThere, int Failed, long Bytes);

/// <summary>
/// Copies an embedded vault's media files (every committed object under <c>DataDir/media</c>;
/// unfinished <c>.partial</c> files are not objects) into the S3 bucket of the configuration, under
/// the same keys. Each object carries the SHA-256 of its bytes as metadata; after a PUT the object
/// is read back and hashed, and only a match counts as copied. Running it again skips objects whose
/// size and recorded hash match the file (resumable, idempotent) and copies the rest. A dry run
/// says what would be copied and writes nothing.
/// </summary>
public sealed class FilesToS3(string dataDir, S3Options options, TextWriter progress)
{
    private const string HashField = "voicevault-sha256";

    public async Task<MediaCopy> RunAsync(bool dryRun, CancellationToken cancellationToken = default)
    {
        var root = Path.Combine(dataDir, "media");
        if (!Directory.Exists(root))
        {
            throw new InvalidOperationException($"No media folder at {root}: give the data folder of the vault to copy (--VoiceVault:DataDir).");
        }
        using var store = new S3MediaStore(options);
        if (!dryRun)
        {
            await store.PrepareAsync(cancellationToken);
        }
        using var s3 = S3MediaStore.CreateClient(options);
        int copied = 0, there = 0, failed = 0;
        long bytes = 0;
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".partial", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            var key = Path.GetRelativePath(root, file).Replace('\\', '/');
            var objectKey = store.ObjectKey(key);
            var length = new FileInfo(file).Length;
            var hash = await HashAsync(file, cancellationToken);
            if (await StoredHashAsync(s3, objectKey, length, cancellationToken) == hash)
            {
                there++;
                continue;
            }
            if (dryRun)
            {
                progress.WriteLine($"would copy {key} ({length} bytes)");
                copied++;
                bytes += length;
                continue;
            }
            try
            {
                await using (var body = File.OpenRead(file))
                {
                    var put = new PutObjectRequest { BucketName = options.Bucket, Key = objectKey, InputStream = body, AutoCloseStream = false };
                    put.Metadata[HashField] = hash;
                    await s3.PutObjectAsync(put, cancellationToken);
                }
                // Verified by reading back what the store now holds.
                using var response = await s3.GetObjectAsync(options.Bucket, objectKey, cancellationToken);
                var readBack = Convert.ToHexStringLower(await SHA256.HashDataAsync(response.ResponseStream, cancellationToken));
                if (readBack != hash)
                {
                    // Not left with a hash it does not have: the next run must copy it again.
                    await s3.DeleteObjectAsync(options.Bucket, objectKey, cancellationToken);
                    throw new IOException($"the object read back has SHA-256 {readBack}, the file {hash}; it was deleted");
                }
                progress.WriteLine($"copied {key} ({length} bytes, SHA-256 verified)");
                copied++;
                bytes += length;
            }
            catch (Exception e) when (e is AmazonS3Exception or IOException or HttpRequestException)
            {
                progress.WriteLine($"FAILED {key}: {e.Message}");
                failed++;
            }
        }
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(dryRun ? "would copy" : "copied")} {copied} objects ({bytes} bytes), {there} already in the bucket and verified, {failed} failed"));
        return new MediaCopy(copied, there, failed, bytes);
    }

    private static async Task<string> HashAsync(string file, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    /// <summary>The hash a previous copy recorded on the object, when the object is there with the file's length.</summary>
    private async Task<string?> StoredHashAsync(IAmazonS3 s3, string objectKey, long length, CancellationToken cancellationToken)
    {
        try
        {
            var head = await s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = options.Bucket, Key = objectKey }, cancellationToken);
            return head.ContentLength == length ? head.Metadata[HashField] : null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound || e.ErrorCode == "NoSuchBucket")
        {
            return null;
        }
    }
}
