using VoiceVault.Server.Core;
using System.Buffers;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace VoiceVault.Server.Storage.S3;

/// <summary>
/// A write: bytes gather in pooled chunks up to one part; a full part is uploaded (starting
/// the multipart upload on the first), the rest goes at commit. The chunks are reused from
/// part to part and returned when the write ends.
/// </summary>
internal sealed class S3Write : MediaWrite
{
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly Func<string, string, CancellationToken, Task> _abort;
    private readonly string _objectKey;
    private readonly PartStream _stream;
    private readonly List<PartETag> _parts = [];
    private string? _uploadId;
    private bool _committed;
    private bool _disposed;

    /// <param name="abort">How the store aborts a multipart upload (object key, upload id).</param>
    public S3Write(IAmazonS3 s3, string bucket, int partSize, string objectKey, Func<string, string, CancellationToken, Task> abort)
    {
        (_s3, _bucket, _abort) = (s3, bucket, abort);
        _objectKey = objectKey;
        _stream = new PartStream(partSize, UploadPartAsync);
    }

    public override Stream Stream => _stream;

    // Called by the stream when a part is full, and at commit for the last part.
    private async Task UploadPartAsync(Stream body, CancellationToken cancellationToken)
    {
        var s3 = _s3;
        _uploadId ??= (await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = _objectKey }, cancellationToken)).UploadId;
        int number = _parts.Count + 1;
        var response = await s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = _bucket,
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
            await _s3.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = _objectKey, InputStream = body, AutoCloseStream = false }, cancellationToken);
        }
        else
        {
            if (body.Length > 0)
            {
                await UploadPartAsync(body, cancellationToken);
            }
            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
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
                await _abort(_objectKey, _uploadId, CancellationToken.None);
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
internal sealed class PartStream(int partSize, Func<Stream, CancellationToken, Task> uploadPart) : Stream
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
