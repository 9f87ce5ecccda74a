using System.Text.Json;
using System.Net;
using System.Net.Http.Headers;
using Amazon.S3;
using VoiceVault.Server.Storage.S3;

namespace VoiceVault.Server.Tests;

/// <summary>
/// <c>VoiceVault:S3:MediaRedirectSeconds</c>: a GET of customer-encrypted media answers 302 with a
/// pre-signed URL of the object (as Twilio's media URLs do), which serves exactly the stored bytes,
/// ranges included, and stops working when it expires; media under the server-managed key is
/// always relayed and decrypted by the vault.
/// </summary>
public sealed class S3MediaRedirectTests
{
    private static async Task<byte[]> StoredObjectAsync(S3Options options, string key)
    {
        using var s3 = S3MediaStore.CreateClient(options);
        using var response = await s3.GetObjectAsync(options.Bucket, key);
        using var bytes = new MemoryStream();
        await response.ResponseStream.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    [Fact]
    public async Task Encrypted_media_redirects_to_a_presigned_url_with_the_stored_bytes_and_ranges_until_it_expires()
    {
        var dataDir = Directory.CreateTempSubdirectory("vv-redirect-").FullName;
        var options = TestMedia.OptionsFor(dataDir);
        await using var vault = await VaultServer.StartAsync(dataDir, extraArgs: ["--VoiceVault:Media", "s3", .. TestMedia.S3Args(options), "--VoiceVault:S3:MediaRedirectSeconds", "3"]);
        var (rsa, _) = await vault.EnableEncryptionAsync();
        var wav = Audio.Wav(3);
        var callSid = Audio.CallSid();
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, callSid, wav);
        Assert.Equal(HttpStatusCode.Created, status);
        var re = body.GetProperty("sid").GetString()!;

        // What a client that follows redirects gets (HttpClient drops the vault's credentials on
        // the way to S3): the ciphertext, which decrypts to the upload.
        var (_, decrypted) = await vault.FetchAndDecryptAsync(callSid, rsa);
        Assert.Equal(wav, decrypted);

        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = vault.BaseUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{vault.AccountSid}:{vault.AuthToken}")));
        var asked = DateTimeOffset.UtcNow;
        using var redirect = await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{re}");
        var answered = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.True(redirect.Headers.CacheControl?.NoStore);
        var location = redirect.Headers.Location!;
        var s3 = new Uri(options.ServiceUrl!);
        Assert.Equal((s3.Host, s3.Port), (location.Host, location.Port));
        Assert.DoesNotContain(vault.AuthToken, location.AbsoluteUri, StringComparison.Ordinal);
        // The link is a read, in the trail before it left, with its expiry.
        var trail = JsonDocument.Parse(await http.GetStringAsync($"/v1/Accounts/{vault.AccountSid}/AuditEvents?Action=recording.media.read")).RootElement.GetProperty("audit_events");
        var link = trail.EnumerateArray().First().GetProperty("details");
        Assert.Equal("link", link.GetProperty("delivery").GetString());
        var expires = DateTimeOffset.Parse(link.GetProperty("expires").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, asked.AddSeconds(3).AddMilliseconds(-1), answered.AddSeconds(3));

        // Not without the vault's credentials: the redirect is given only to whom may read.
        using (var anonymous = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = vault.BaseUri }.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{re}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        var stored = await StoredObjectAsync(options, $"{vault.AccountSid}/{re}");
        using var plain = new HttpClient();
        Assert.Equal(stored, await plain.GetByteArrayAsync(location));
        using (var request = new HttpRequestMessage(HttpMethod.Get, location) { Headers = { Range = new RangeHeaderValue(100, 1123) } })
        using (var partial = await plain.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(stored[100..1124], await partial.Content.ReadAsByteArrayAsync());
        }

        await Eventually.TrueAsync(async () => (await plain.GetAsync(location)).StatusCode == HttpStatusCode.Forbidden,
            "the pre-signed URL expires", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Media_under_the_server_key_is_relayed_decrypted_never_redirected()
    {
        var dataDir = Directory.CreateTempSubdirectory("vv-redirect-").FullName;
        var options = TestMedia.OptionsFor(dataDir);
        await using var vault = await VaultServer.StartAsync(dataDir, extraArgs: ["--VoiceVault:Media", "s3", .. TestMedia.S3Args(options), "--VoiceVault:S3:MediaRedirectSeconds", "300"]);
        var wav = Audio.Wav(2);
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav);
        Assert.Equal(HttpStatusCode.Created, status);
        var re = body.GetProperty("sid").GetString()!;

        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = vault.BaseUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{vault.AccountSid}:{vault.AuthToken}")));
        using var response = await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{re}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(wav, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(301)]
    [InlineData(7 * 24 * 3600)]
    public void A_redirect_lifetime_over_the_audit_trails_five_minutes_is_refused_at_start(int seconds)
    {
        var error = Assert.Throws<Core.StartupException>(() => new S3MediaStore(new S3Options { ServiceUrl = "http://127.0.0.1:1", Bucket = "b", MediaRedirectSeconds = seconds }));
        Assert.Contains("VoiceVault:S3:MediaRedirectSeconds", error.Message, StringComparison.Ordinal);
        Assert.Contains("5 minutes", error.Hint, StringComparison.Ordinal);
    }
}
