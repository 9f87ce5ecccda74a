using VoiceVault.Server.Core;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace VoiceVault.Server.Storage.S3;

/// <summary>
/// Media in an S3-compatible object store (<c>VoiceVault:Media=s3</c>): one object per recording
/// under the bucket's optional prefix. A write is gathered into parts of
/// <see cref="S3Options.PartSizeMiB"/> in pooled memory — an object that fits in one part is one
/// PUT at commit, a larger one a multipart upload whose parts leave as they fill — so memory per
/// write is one part whatever the recording's length. An uncommitted write aborts its multipart
/// upload: no object, no orphaned parts. Deleting an object also aborts any unfinished upload of
/// its key (what an instance that died mid-write left behind).
/// </summary>
public sealed class S3MediaStore : IMediaStore, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly int _partSize;
    private readonly bool _createBucket;
    private readonly string _endpoint;
    private readonly TimeSpan _redirectFor;
    private readonly Protocol _protocol;

    public S3MediaStore(S3Options options) : this(CreateClient(options), options)
    {
    }

    public S3MediaStore(IAmazonS3 s3, S3Options options)
    {
        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            throw new StartupException("VoiceVault:Media is s3 but VoiceVault:S3:Bucket is not set", "name the bucket that holds the media: VoiceVault:S3:Bucket=NAME");
        }
        if (options.PartSizeMiB is < 5 or > 5120)
        {
            throw new StartupException($"VoiceVault:S3:PartSizeMiB is {options.PartSizeMiB}", "S3 parts are 5 to 5120 MiB");
        }
        if (options.MediaRedirectSeconds is < 0 or > MaxPresignedSeconds)
        {
            throw new StartupException($"VoiceVault:S3:MediaRedirectSeconds is {options.MediaRedirectSeconds}",
                $"give 0 (off) to {MaxPresignedSeconds}: a media link is a read the audit trail records once, so it lives at most 5 minutes (docs/audit.md)");
        }
        _s3 = s3;
        _bucket = options.Bucket;
        _prefix = string.IsNullOrEmpty(options.Prefix) ? "" : options.Prefix.TrimEnd('/') + "/";
        _partSize = options.PartSizeMiB << 20;
        _createBucket = options.CreateBucket;
        _endpoint = string.IsNullOrEmpty(options.ServiceUrl) ? $"AWS S3 ({options.Region})" : options.ServiceUrl;
        _redirectFor = TimeSpan.FromSeconds(options.MediaRedirectSeconds);
        _protocol = options.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS;
    }

    // A link is recorded as one read when it is issued (docs/audit.md): it may not outlive 5 minutes.
    private const int MaxPresignedSeconds = 300;

    /// <summary>
    /// With <see cref="S3Options.MediaRedirectSeconds"/> set, a pre-signed GET of the object valid
    /// that long (ranges included: the client sends its Range to S3).
    /// </summary>
    public async Task<DirectRead?> DirectReadUrlAsync(string key, CancellationToken cancellationToken = default)
    {
        if (_redirectFor == TimeSpan.Zero)
        {
            return null;
        }
        var expires = DateTime.UtcNow + _redirectFor;
        var url = await _s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = _bucket,
            Key = ObjectKey(key),
            Verb = HttpVerb.GET,
            Protocol = _protocol,
            Expires = expires,
        });
        return new DirectRead(new Uri(url), new DateTimeOffset(expires, TimeSpan.Zero));
    }

    /// <summary>The bucket must exist (or is created when <see cref="S3Options.CreateBucket"/> says so) and answer with these credentials.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, MaxKeys = 1 }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket" && _createBucket)
        {
            await _s3.PutBucketAsync(new PutBucketRequest { BucketName = _bucket }, cancellationToken);
        }
        catch (AmazonS3Exception e)
        {
            throw e.ErrorCode == "NoSuchBucket"
                ? new StartupException($"The S3 bucket '{_bucket}' does not exist at {_endpoint}", "create it, or start once with VoiceVault:S3:CreateBucket=true", e)
                : new StartupException($"The S3 bucket '{_bucket}' cannot be used: {(int)e.StatusCode} {e.ErrorCode} {e.Message}".TrimEnd(),
                    "check VoiceVault:S3 (ServiceUrl, Bucket, Region) and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)", e);
        }
        catch (HttpRequestException e)
        {
            throw new StartupException($"The S3 endpoint {_endpoint} cannot be reached: {e.Message}", "check VoiceVault:S3:ServiceUrl and that the store is running", e);
        }
    }

    /// <summary>The client for the configured endpoint; credentials from the AWS SDK's default chain.</summary>
    public static IAmazonS3 CreateClient(S3Options options)
    {
        var config = new AmazonS3Config
        {
            // Checksums only where S3 requires them: stores that speak S3 but not its newest
            // checksum trailers (Ceph RGW 16 and others) refuse the default aws-chunked uploads.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
        };
        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }
        return new AmazonS3Client(config);
    }

    /// <summary>The object name of a media key.</summary>
    public string ObjectKey(string key) => _prefix + key;

    public Task<MediaWrite> CreateAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult<MediaWrite>(new S3Write(_s3, _bucket, _partSize, ObjectKey(key), AbortAsync));

    public async Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        var request = new GetObjectRequest { BucketName = _bucket, Key = ObjectKey(key) };
        if (length == 0)
        {
            // S3 cannot express an empty range; the object must still exist.
            return await GetLengthAsync(key, cancellationToken) is null ? null : Stream.Null;
        }
        if (offset > 0 || length is not null)
        {
            request.ByteRange = length is null ? new ByteRange($"bytes={offset}-") : new ByteRange(offset, offset + length.Value - 1);
        }
        try
        {
            var response = await _s3.GetObjectAsync(request, cancellationToken);
            return new ResponseStream(response);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<long?> GetLengthAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            var metadata = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = ObjectKey(key) }, cancellationToken);
            return metadata.ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = ObjectKey(key) }, cancellationToken);
        await AbortUnfinishedAsync(key, cancellationToken);
    }

    public async Task AbortUnfinishedAsync(string key, CancellationToken cancellationToken = default)
    {
        var objectKey = ObjectKey(key);
        foreach (var uploadId in await UnfinishedUploadsAsync(objectKey, cancellationToken))
        {
            await AbortAsync(objectKey, uploadId, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<string>> UnfinishedWritesAsync(DateTimeOffset startedBefore, CancellationToken cancellationToken = default)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        var request = new ListMultipartUploadsRequest { BucketName = _bucket, Prefix = _prefix };
        while (true)
        {
            var page = await _s3.ListMultipartUploadsAsync(request, cancellationToken);
            foreach (var upload in page.MultipartUploads ?? [])
            {
                if (upload.Initiated is { } initiated && new DateTimeOffset(initiated.ToUniversalTime(), TimeSpan.Zero) < startedBefore)
                {
                    keys.Add(upload.Key[_prefix.Length..]);
                }
            }
            if (page.IsTruncated != true)
            {
                return [.. keys];
            }
            request.KeyMarker = page.NextKeyMarker;
            request.UploadIdMarker = page.NextUploadIdMarker;
        }
    }

    /// <summary>The multipart uploads of exactly this object key that were started and never completed or aborted.</summary>
    private async Task<List<string>> UnfinishedUploadsAsync(string objectKey, CancellationToken cancellationToken)
    {
        var found = new List<string>();
        var request = new ListMultipartUploadsRequest { BucketName = _bucket, Prefix = objectKey };
        while (true)
        {
            var page = await _s3.ListMultipartUploadsAsync(request, cancellationToken);
            found.AddRange((page.MultipartUploads ?? []).Where(u => u.Key == objectKey).Select(u => u.UploadId));
            if (page.IsTruncated != true)
            {
                return found;
            }
            request.KeyMarker = page.NextKeyMarker;
            request.UploadIdMarker = page.NextUploadIdMarker;
        }
    }

    private async Task AbortAsync(string objectKey, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = objectKey, UploadId = uploadId }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone (completed or aborted by someone else).
        }
    }

    public void Dispose() => _s3.Dispose();

    /// <summary>An object's body; disposing it releases the HTTP response.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _body = response.ResponseStream;

        public override int Read(byte[] buffer, int offset, int count) => _body.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => _body.Read(buffer);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _body.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _body.ReadAsync(buffer, offset, count, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _body.Dispose();
                response.Dispose();
            }
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.ContentLength;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
