using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// api.twilio.com cannot be reached from here, so its side is played from pages written as Twilio
/// writes them: RFC 2822 dates, relative <c>next_page_uri</c> with Twilio's PageToken, the REST
/// spellings of <c>encryption_details</c> (<c>encryption_public_key_sid</c>, <c>encryption_cek</c>,
/// <c>encryption_iv</c> only), and media answered with a redirect to another host (Twilio's
/// storage), which must not receive the account's credentials.
/// </summary>
public sealed class FetchFromTwilioTests
{
    [Fact]
    public async Task Fetch_reads_twilios_pages_spellings_and_media_redirects()
    {
        const string account = "AC4bf2dafbed59a5733d2c1c1c69a83a28";
        const string token = "twilio-auth-token-of-the-test";
        using var rsa = RSA.Create(2048);
        var root = Directory.CreateTempSubdirectory("vv-twilio-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(root, "key.pem"), rsa.ExportPkcs8PrivateKeyPem());
            // Three encrypted recordings over two pages; one on another day.
            var media = new Dictionary<string, (byte[] Wav, byte[] Stored, string Details, string Date)>();
            foreach (var (sid, date) in new[]
            {
                ("RE3ce9efa4ed59a5733d2c1c1c69a83a28", "Tue, 15 Feb 2011 04:21:54 +0000"),
                ("RE83fccacded59a5733d2c1c1c69a83a28", "Sun, 13 Feb 2011 23:59:59 +0000"),
                ("REee24eda1ed59a5733d2c1c1c69a83a28", "Sun, 13 Feb 2011 02:12:05 +0000"),
            })
            {
                var wav = Audio.Wav(1);
                using var cek = ContentKey.Generate();
                var iv = RandomNumberGenerator.GetBytes(12);
                using var stored = new MemoryStream();
                RecordingEncryptor.Encrypt(new MemoryStream(wav), stored, cek, iv);
                var details = $$"""{"type": "rsa-aes", "encryption_public_key_sid": "CR1e6d1e2bd5c9b0ec4a6a6d1f4c3b2a10", "encryption_cek": "{{Convert.ToBase64String(KeyWrap.Wrap(rsa, cek))}}", "encryption_iv": "{{Convert.ToBase64String(iv)}}"}""";
                media[sid] = (wav, stored.ToArray(), details, date);
            }
            var authorizationAtStorage = new List<string>();
            await using var storage = await TestHttp.ServeAsync(async context =>
            {
                authorizationAtStorage.Add(context.Request.Headers.Authorization.ToString());
                var sid = context.Request.Path.Value!.Split('/')[^1];
                await context.Response.Body.WriteAsync(media[sid].Stored);
            });
            string Recording(string sid) => $$"""
                {"account_sid": "{{account}}", "api_version": "2010-04-01", "call_sid": "CA24388be8ed59a5733d2c1c1c69a83a28", "conference_sid": null,
                 "date_created": "{{media[sid].Date}}", "date_updated": "{{media[sid].Date}}", "start_time": "{{media[sid].Date}}", "duration": "1",
                 "sid": "{{sid}}", "price": "-0.00250", "price_unit": "USD", "status": "completed", "channels": 1, "source": "StartCallRecordingAPI",
                 "error_code": null, "uri": "/2010-04-01/Accounts/{{account}}/Recordings/{{sid}}.json", "encryption_details": {{media[sid].Details}},
                 "subresource_uris": {"add_on_results": "/2010-04-01/Accounts/{{account}}/Recordings/{{sid}}/AddOnResults.json",
                 "transcriptions": "/2010-04-01/Accounts/{{account}}/Recordings/{{sid}}/Transcriptions.json"},
                 "media_url": "https://api.twilio.com/2010-04-01/Accounts/{{account}}/Recordings/{{sid}}"}
                """;
            var sids = media.Keys.ToList();
            var requests = new List<string>();
            await using var twilio = await TestHttp.ServeAsync(async context =>
            {
                var path = context.Request.Path.Value!;
                requests.Add(path + context.Request.QueryString);
                if (context.Request.Headers.Authorization.ToString() != "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{account}:{token}")))
                {
                    context.Response.StatusCode = 401;
                    await context.Response.WriteAsync("""{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}""");
                    return;
                }
                context.Response.ContentType = "application/json";
                if (path == $"/2010-04-01/Accounts/{account}/Recordings.json")
                {
                    bool second = context.Request.Query["PageToken"] == "PASK4bf2dafbed59a5733d2c1c1c69a83a28";
                    var items = second ? sids[2..] : sids[..2];
                    var next = second ? "null" : $"\"/2010-04-01/Accounts/{account}/Recordings.json?PageSize=2&Page=1&PageToken=PASK4bf2dafbed59a5733d2c1c1c69a83a28\"";
                    await context.Response.WriteAsync($$"""
                        {"end": 1, "first_page_uri": "/2010-04-01/Accounts/{{account}}/Recordings.json?PageSize=2&Page=0", "next_page_uri": {{next}},
                         "page": {{(second ? 1 : 0)}}, "page_size": 2, "previous_page_uri": null, "recordings": [{{string.Join(",", items.Select(Recording))}}],
                         "start": 0, "uri": "/2010-04-01/Accounts/{{account}}/Recordings.json?PageSize=2&Page=0"}
                        """);
                    return;
                }
                var sid = path.Split('/')[^1];
                if (media.ContainsKey(sid))
                {
                    // Twilio answers a media GET with a redirect to its storage.
                    context.Response.StatusCode = 302;
                    context.Response.Headers.Location = $"{storage.Url}/media/{sid}";
                    return;
                }
                context.Response.StatusCode = 404;
            });

            var outDir = Path.Combine(root, "out");
            var (exit, stdout, stderr) = await TestProcess.ToolkitAsync(TestProcess.TwilioEnvironment(account, token),
                "fetch", "--base-url", twilio.Url, "--out", outDir, "--key", Path.Combine(root, "key.pem"), "--json");
            Assert.True(exit == 0, stdout + stderr);
            Assert.Equal(3, JsonDocument.Parse(stdout).RootElement.GetProperty("fetched").GetInt32());
            // Dated by Twilio's RFC 2822 date_created, in UTC; decrypted with the REST spellings.
            Assert.Equal(media[sids[0]].Wav, File.ReadAllBytes(Path.Combine(outDir, account, "2011-02-15", sids[0] + ".wav")));
            Assert.Equal(media[sids[1]].Wav, File.ReadAllBytes(Path.Combine(outDir, account, "2011-02-13", sids[1] + ".wav")));
            Assert.Equal(media[sids[2]].Wav, File.ReadAllBytes(Path.Combine(outDir, account, "2011-02-13", sids[2] + ".wav")));
            // The second page was asked for by its next_page_uri, as Twilio wrote it.
            Assert.Contains($"/2010-04-01/Accounts/{account}/Recordings.json?PageSize=2&Page=1&PageToken=PASK4bf2dafbed59a5733d2c1c1c69a83a28", requests);
            // The storage host never saw the account's credentials.
            Assert.Equal(3, authorizationAtStorage.Count);
            Assert.All(authorizationAtStorage, Assert.Empty);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
