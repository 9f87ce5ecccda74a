using System.Net;

namespace VoiceVault.Cli;

/// <summary>
/// A media download read as one stream: when the connection drops part-way, it asks for the rest
/// (<c>Range: bytes=N-</c>) and carries on, so the reader (the decryptor, still holding its GCM
/// state) never notices. A server that cannot resume at exactly that byte, or a body that ends
/// short of its announced length, is an error — never silently joined data.
/// </summary>
internal sealed class ResumableDownload : Stream
{
    private readonly TwilioApi _api;
    private readonly string _path;
    private HttpResponseMessage _response;
    private Stream _body;
    private long _position;
    private int _resumes;

    private ResumableDownload(TwilioApi api, string path, HttpResponseMessage response, Stream body, long? length)
    {
        _api = api;
        _path = path;
        _response = response;
        _body = body;
        TotalLength = length;
    }

    /// <summary>Most resumes of one download.</summary>
    public const int MaxResumes = 8;

    /// <summary>The length the server announced, if it did.</summary>
    public long? TotalLength { get; }

    public static async Task<ResumableDownload> OpenAsync(TwilioApi api, string path, CancellationToken cancellationToken)
    {
        var response = await api.OpenAsync(path, null, cancellationToken);
        return new ResumableDownload(api, path, response, await response.Content.ReadAsStreamAsync(cancellationToken), response.Content.Headers.ContentLength);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                int n = await _body.ReadAsync(buffer, cancellationToken);
                if (n == 0 && TotalLength is { } total && _position < total)
                {
                    throw new IOException($"the body ended at byte {_position} of {total}");
                }
                _position += n;
                return n;
            }
            catch (Exception e) when (e is IOException or HttpRequestException && _resumes < MaxResumes && !cancellationToken.IsCancellationRequested)
            {
                _resumes++;
                await ResumeAsync(cancellationToken);
            }
        }
    }

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        _response.Dispose();
        await Task.Delay(TimeSpan.FromMilliseconds(200 * _resumes), cancellationToken);
        var response = await _api.OpenAsync(_path, _position, cancellationToken);
        if (response.StatusCode != HttpStatusCode.PartialContent || response.Content.Headers.ContentRange?.From != _position)
        {
            response.Dispose();
            throw new CliException($"{_path}: the download broke off at byte {_position} and the server would not resume there", "run fetch again");
        }
        _response = response;
        _body = await response.Content.ReadAsStreamAsync(cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _response.Dispose();
        }
        base.Dispose(disposing);
    }
}
