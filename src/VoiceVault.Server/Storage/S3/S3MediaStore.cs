using VoiceVault.Server.Core;
using System.Buffers;
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
            throw new StartupException($"VoiceVault:S3:MediaRedirectSeconds is {options.MediaRedirectSeconds}", $"give 0 (off) to {MaxPresignedSeconds} (the seven days a pre-signed S3 URL may last)");
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

    private const int MaxPresignedSeconds = 7 * 24 * 3600;

    /// <summary>
    /// With <see cref="S3Options.MediaRedirectSeconds"/> set, a pre-signed GET of the object valid
    /// that long (ranges included: the client sends its Range to S3).
    /// </summary>
    public async Task<Uri?> DirectReadUrlAsync(string key, CancellationToken cancellationToken = default)
    {
        if (_redirectFor == TimeSpan.Zero)
        {
            return null;
        }
        var url = await _s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = _bucket,
            Key = ObjectKey(key),
            Verb = HttpVerb.GET,
            Protocol = _protocol,
            Expires = DateTime.UtcNow + _redirectFor,
        });
        return new Uri(url);
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
        Task.FromResult<MediaWrite>(new S3Write(this, ObjectKey(key)));

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

    /// <summary>
    /// A write: bytes gather in pooled chunks up to one part; a full part is uploaded (starting
    /// the multipart upload on the first), the rest goes at commit. The chunks are reused from
    /// part to part and returned when the write ends.
    /// </summary>
    private sealed class S3Write : MediaWrite
    {
        private readonly S3MediaStore _store;
        private readonly string _objectKey;
        private readonly PartStream _stream;
        private readonly List<PartETag> _parts = [];
        private string? _uploadId;
        private bool _committed;
        private bool _disposed;

        public S3Write(S3MediaStore store, string objectKey)
        {
            _store = store;
            _objectKey = objectKey;
            _stream = new PartStream(store._partSize, UploadPartAsync);
        }

        public override Stream Stream => _stream;

        // Called by the stream when a part is full, and at commit for the last part.
        private async Task UploadPartAsync(Stream body, CancellationToken cancellationToken)
        {
            var s3 = _store._s3;
            _uploadId ??= (await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _store._bucket, Key = _objectKey }, cancellationToken)).UploadId;
            int number = _parts.Count + 1;
            var response = await s3.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _store._bucket,
                Key = _objectKey,
                UploadId = _uploadId,
                PartNumber = number,
                InputStream = body,
                PartSize = body.Length,
            }, cancellationToken);
            _parts.Add(new PartETag(number, response.ETag));
        }

        public override async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var body = _stream.Pending();
            if (_uploadId is null)
            {
                await _store._s3.PutObjectAsync(new PutObjectRequest { BucketName = _store._bucket, Key = _objectKey, InputStream = body, AutoCloseStream = false }, cancellationToken);
            }
            else
            {
                if (body.Length > 0)
                {
                    await UploadPartAsync(body, cancellationToken);
                }
                await _store._s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = _store._bucket,
                    Key = _objectKey,
                    UploadId = _uploadId,
                    PartETags = _parts,
                }, cancellationToken);
            }
            _committed = true;
        }

        public override async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _stream.Release();
            if (!_committed && _uploadId is not null)
            {
                // The parts uploaded so far are billed and invisible until aborted. If the store
                // cannot be reached now, the instances' sweep aborts them later: a failed clean-up
                // must not hide why the write failed.
                try
                {
                    await _store.AbortAsync(_objectKey, _uploadId, CancellationToken.None);
                }
                catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException or TaskCanceledException)
                {
                }
            }
        }
    }

    /// <summary>
    /// The write side: fills a part in pooled chunks of <see cref="ChunkSize"/> and hands it over,
    /// as a stream over those chunks, when full. Chunks are taken as bytes arrive — a one-minute
    /// recording holds one chunk, not a whole part — from a pool of this size only, so that every
    /// write in flight reuses an array instead of allocating (and zeroing) a large one.
    /// </summary>
    private sealed class PartStream(int partSize, Func<Stream, CancellationToken, Task> uploadPart) : Stream
    {
        private const int ChunkSize = 1 << 20;
        private static readonly ArrayPool<byte> Chunks = ArrayPool<byte>.Create(ChunkSize, 256);
        private List<byte[]>? _chunks = [];
        private int _count;
        private long _position;

        /// <summary>The part gathered so far, as a seekable stream (the request signer reads it twice).</summary>
        public Stream Pending() => new ChunkReader(_chunks ?? throw new ObjectDisposedException(nameof(PartStream)), _count);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_chunks is null, this);
            while (!source.IsEmpty)
            {
                int chunk = _count / ChunkSize, at = _count % ChunkSize;
                if (chunk == _chunks.Count)
                {
                    _chunks.Add(Chunks.Rent(ChunkSize));
                }
                int n = Math.Min(source.Length, Math.Min(ChunkSize - at, partSize - _count));
                source.Span[..n].CopyTo(_chunks[chunk].AsSpan(at));
                _count += n;
                _position += n;
                source = source[n..];
                if (_count == partSize)
                {
                    await uploadPart(Pending(), cancellationToken);
                    _count = 0;
                }
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Release()
        {
            if (_chunks is not null)
            {
                foreach (var chunk in _chunks)
                {
                    Chunks.Return(chunk);
                }
                _chunks = null;
            }
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => _chunks is not null;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        /// <summary>The first <c>length</c> bytes of the chunks, read-only and seekable, without copying them.</summary>
        private sealed class ChunkReader(List<byte[]> chunks, int length) : Stream
        {
            private int _position;

            public override int Read(Span<byte> buffer)
            {
                int total = 0;
                while (!buffer.IsEmpty && _position < length)
                {
                    int at = _position % ChunkSize;
                    int n = Math.Min(buffer.Length, Math.Min(ChunkSize - at, length - _position));
                    chunks[_position / ChunkSize].AsSpan(at, n).CopyTo(buffer);
                    buffer = buffer[n..];
                    _position += n;
                    total += n;
                }
                return total;
            }

            public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

            public override long Seek(long offset, SeekOrigin origin)
            {
                long target = origin switch
                {
                    SeekOrigin.Begin => offset,
                    SeekOrigin.Current => _position + offset,
                    _ => length + offset,
                };
                Position = target;
                return _position;
            }

            public override long Position
            {
                get => _position;
                set => _position = value is >= 0 && value <= int.MaxValue ? (int)Math.Min(value, length) : throw new ArgumentOutOfRangeException(nameof(value));
            }

            public override bool CanRead => true;
            public override bool CanSeek => true;
            public override bool CanWrite => false;
            public override long Length => length;
            public override void Flush() { }
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }

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

/// <summary>The <c>VoiceVault:S3</c> configuration section (docs/api.md §11).</summary>
public sealed record S3Options
{
    /// <summary>The S3 endpoint, e.g. http://127.0.0.1:7480 for a Ceph RGW; absent: AWS in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    public string Bucket { get; set; } = "";

    /// <summary>The region requests are signed for (and AWS's endpoint when no ServiceUrl is given).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Bucket in the path (http://host/bucket/key) rather than the host name: most self-hosted stores need it.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>A folder inside the bucket for this vault's objects (several vaults may share one bucket).</summary>
    public string? Prefix { get; set; }

    /// <summary>The size of a multipart upload's parts, and so the memory one write holds (5 to 5120).</summary>
    public int PartSizeMiB { get; set; } = 8;

    /// <summary>
    /// When above 0, a GET of customer-encrypted media answers 302 with a pre-signed URL of the
    /// object valid this many seconds, as Twilio's media URLs do, and the client reads the
    /// ciphertext from S3 itself; the S3 endpoint must then be reachable by clients. 0 (the
    /// default): the vault relays the bytes. Media under the server-managed key is always relayed
    /// (the vault decrypts it).
    /// </summary>
    public int MediaRedirectSeconds { get; set; }

    /// <summary>Creates the bucket at start when it does not exist (for local set-ups; in production, create it with its policies).</summary>
    public bool CreateBucket { get; set; }
}
