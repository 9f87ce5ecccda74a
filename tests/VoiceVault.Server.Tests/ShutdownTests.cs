using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VoiceVault.Server.Tests;

/// <summary>The service as its own process, as operators run it.</summary>
public sealed partial class ShutdownTests
{
    [Fact]
    public async Task SIGTERM_lets_an_upload_in_flight_finish_and_store_its_recording()
    {
        var dataDir = Directory.CreateTempSubdirectory("vv-proc-").FullName;
        var sid = "AC" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "VoiceVault.Server.dll"), "--urls", "http://127.0.0.1:0",
            "--VoiceVault:DataDir", dataDir, "--VoiceVault:Bootstrap:AccountSid", sid, "--VoiceVault:Bootstrap:AuthToken", token])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var server = Process.Start(start)!;
        try
        {
            string? address = null;
            while (address is null && await server.StandardOutput.ReadLineAsync() is { } line)
            {
                var match = Listening().Match(line);
                address = match.Success ? match.Groups[1].Value : null;
            }
            Assert.NotNull(address);
            _ = server.StandardOutput.ReadToEndAsync();

            using var http = new HttpClient { BaseAddress = new Uri(address!) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{sid}:{token}")));
            var wav = Audio.Wav(10);
            var pipe = new System.IO.Pipelines.Pipe();
            var upload = http.PutAsync($"/v1/Ingest/Calls/{Audio.CallSid()}/Recording", new StreamContent(pipe.Reader.AsStream()));
            await pipe.Writer.WriteAsync(wav.AsMemory(0, 100_000));
            await pipe.Writer.FlushAsync();
            await Task.Delay(300);

            Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            await Task.Delay(300);
            Assert.False(server.HasExited, "the server left before its upload finished");
            await pipe.Writer.WriteAsync(wav.AsMemory(100_000));
            await pipe.Writer.CompleteAsync();

            var response = await upload;
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal("completed", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
            Assert.True(server.WaitForExit(15_000), "the server did not exit after SIGTERM");
            Assert.Equal(0, server.ExitCode);
            var stored = Assert.Single(Directory.GetFiles(Path.Combine(dataDir, "media"), "*", SearchOption.AllDirectories));
            Assert.Equal(wav.Length + 16, new FileInfo(stored).Length);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex Listening();
}
