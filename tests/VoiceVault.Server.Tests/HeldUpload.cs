using System.IO.Pipelines;
using System.Net;
using System.Text.Json;

namespace VoiceVault.Server.Tests;

/// <summary>
/// A file upload whose body the test sends piece by piece: between the pieces the vault has an
/// upload in progress (a recording being stored, a temporary object, a multipart upload).
/// </summary>
internal sealed class HeldUpload
{
    private readonly Pipe _body = new();
    private readonly Task<HttpResponseMessage> _response;

    /// <summary>PUTs to the file-ingest path <paramref name="pathAndQuery"/>; with <paramref name="length"/>, as a Content-Length body.</summary>
    public HeldUpload(HttpClient http, string pathAndQuery, long? length = null)
    {
        var content = new StreamContent(_body.Reader.AsStream());
        content.Headers.ContentLength = length;
        _response = http.PutAsync(pathAndQuery, content);
    }

    /// <summary>Sends <paramref name="bytes"/> and lets them go out.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        await _body.Writer.WriteAsync(bytes);
        await _body.Writer.FlushAsync();
    }

    /// <summary>Sends the rest, ends the body, and returns the vault's answer.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> FinishAsync(ReadOnlyMemory<byte> rest)
    {
        await _body.Writer.WriteAsync(rest);
        await _body.Writer.CompleteAsync();
        using var response = await _response;
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>The client gives up part-way (or the body ends short): the request must fail, with no answer from the vault.</summary>
    public async Task AbandonAsync(Exception? why = null)
    {
        await _body.Writer.CompleteAsync(why);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => _response);
    }
}
