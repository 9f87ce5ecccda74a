using System.Net;
using System.Text.Json;

namespace VoiceVault.Server.Tests;

/// <summary>The service as its own process, as operators run it.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task SIGTERM_lets_an_upload_in_flight_finish_and_store_its_recording()
    {
        using var instance = new VaultProcess.Instance();
        using var server = await instance.StartAsync();
        using var http = server.Http(instance.Sid, instance.Token);
        var wav = Audio.Wav(10);
        var pipe = new System.IO.Pipelines.Pipe();
        var upload = http.PutAsync($"/v1/Ingest/Calls/{Audio.CallSid()}/Recording", new StreamContent(pipe.Reader.AsStream()));
        await pipe.Writer.WriteAsync(wav.AsMemory(0, 100_000));
        await pipe.Writer.FlushAsync();
        using var observer = server.Http(instance.Sid, instance.Token);
        await Eventually.TrueAsync(async () => (await observer.GetStringAsync($"/2010-04-01/Accounts/{instance.Sid}/Recordings.json")).Contains("\"processing\"", StringComparison.Ordinal),
            "the upload's recording is being stored");

        server.Signal("TERM");
        // Shutting down: no new connections, while the upload in flight goes on.
        await Eventually.TrueAsync(async () =>
        {
            using var probe = new System.Net.Sockets.TcpClient();
            try
            {
                await probe.ConnectAsync(server.BaseUri.Host, server.BaseUri.Port);
                return false;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return true;
            }
        }, "the server stops accepting connections after SIGTERM");
        Assert.False(server.HasExited, "the server left before its upload finished");
        await pipe.Writer.WriteAsync(wav.AsMemory(100_000));
        await pipe.Writer.CompleteAsync();

        var response = await upload;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("completed", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(15)), "the server did not exit after SIGTERM");
        Assert.Equal(0, server.ExitCode);
        var stored = Assert.Single(await TestMedia.EverythingAsync(instance.DataDir));
        Assert.Equal(wav.Length + 16, stored.Content.Length);
    }
}
