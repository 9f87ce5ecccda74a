using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Twilio.Rest.Accounts.V1.Credential;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Security;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

public sealed class RecordingTests
{
    [Fact]
    public async Task An_upload_is_stored_encrypted_to_the_customer_key_and_read_back_through_the_Twilio_SDK()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        var (rsa, keySid) = await vault.EnableEncryptionAsync();
        var wav = Audio.Wav(5);
        var callSid = Audio.CallSid();

        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, callSid, wav, $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("completed", body.GetProperty("status").GetString());
        var recordingSid = body.GetProperty("sid").GetString()!;

        var fetched = await RecordingResource.FetchAsync(pathSid: recordingSid, client: vault.Twilio());
        Assert.Equal(RecordingResource.StatusEnum.Completed, fetched.Status);
        Assert.Equal("5", fetched.Duration);
        Assert.Equal(1, fetched.Channels);
        Assert.Equal(callSid, fetched.CallSid);
        var details = EncryptionDetails.Parse(fetched.EncryptionDetails.ToString()!);
        Assert.Equal(keySid, details.PublicKeySid);

        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var stored = await http.GetByteArrayAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{recordingSid}");
        Assert.Equal(wav.Length + 16, stored.Length);
        Assert.Equal(stored, await http.GetByteArrayAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{recordingSid}.wav"));
        Assert.Equal(wav, Customer.Decrypt(rsa, details, stored));

        // Python's cryptography, as Twilio's sample uses it, agrees.
        var dir = Directory.CreateTempSubdirectory("vv-py").FullName;
        File.WriteAllBytes(Path.Combine(dir, "rec.enc"), stored);
        File.WriteAllText(Path.Combine(dir, "rec.json"), JsonSerializer.Serialize(JsonDocument.Parse(fetched.EncryptionDetails.ToString()!).RootElement));
        File.WriteAllText(Path.Combine(dir, "key.pem"), rsa.ExportPkcs8PrivateKeyPem());
        var python = Process.Start(new ProcessStartInfo(Environment.GetEnvironmentVariable("VOICEVAULT_PYTHON") ?? "python3",
            [Path.Combine(AppContext.BaseDirectory, "interop", "reference_decrypt.py"), "key.pem", "rec.json", "rec.enc", "rec.wav"]) { WorkingDirectory = dir, RedirectStandardError = true })!;
        var pyError = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, pyError);
        Assert.Equal(wav, File.ReadAllBytes(Path.Combine(dir, "rec.wav")));
        Directory.Delete(dir, true);

        // The completed callback: signed so that the SDK's RequestValidator accepts it, with the details.
        var callback = Assert.Single(await receiver.WaitForAsync(1));
        Assert.Equal("POST", callback.Method);
        Assert.True(new RequestValidator(vault.AuthToken).Validate(callback.Url, callback.Parameters, callback.Signature));
        Assert.False(new RequestValidator(vault.AuthToken[..^1] + "x").Validate(callback.Url, callback.Parameters, callback.Signature));
        Assert.Equal("completed", callback.Parameters["RecordingStatus"]);
        Assert.Equal(recordingSid, callback.Parameters["RecordingSid"]);
        Assert.Equal(callSid, callback.Parameters["CallSid"]);
        Assert.Equal("5", callback.Parameters["RecordingDuration"]);
        Assert.Equal("1", callback.Parameters["RecordingChannels"]);
        Assert.Equal($"http://127.0.0.1:5080/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{recordingSid}", callback.Parameters["RecordingUrl"]);
        foreach (var name in new[] { "AccountSid", "RecordingStartTime", "RecordingSource", "RecordingTrack", "ErrorCode" })
        {
            Assert.True(callback.Parameters.ContainsKey(name), name);
        }
        var fromCallback = EncryptionDetails.Parse(callback.Parameters["EncryptionDetails"]);
        Assert.Equal(wav, Customer.Decrypt(rsa, fromCallback, stored));
        rsa.Dispose();
    }

    [Fact]
    public async Task No_plaintext_reaches_the_data_folder_or_the_database_with_or_without_customer_keys()
    {
        await using var vault = await VaultServer.StartAsync();
        var plainWav = Audio.Wav(4, marker: "MARKER-SERVER-MANAGED");
        var (status, serverManaged) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), plainWav);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(JsonValueKind.Null, serverManaged.GetProperty("encryption_details").ValueKind);
        var (rsa, _) = await vault.EnableEncryptionAsync();
        var customerWav = Audio.Wav(4, channels: 2, marker: "MARKER-CUSTOMER-KEY");
        var (_, customer) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), customerWav);
        Assert.Equal(2, customer.GetProperty("channels").GetInt32());

        foreach (var (path, content) in vault.DataFiles())
        {
            foreach (var (wav, marker) in new[] { (plainWav, "MARKER-SERVER-MANAGED"), (customerWav, "MARKER-CUSTOMER-KEY") })
            {
                Assert.True(content.AsSpan().IndexOf(Encoding.ASCII.GetBytes(marker)) < 0, $"marker in {path}");
                Assert.False(Audio.ContainsAnyRun(content, wav), $"a 64-byte run of plaintext audio in {path}");
            }
        }
        // The server-managed recording is transparent to an authorised download.
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        Assert.Equal(plainWav, await http.GetByteArrayAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{serverManaged.GetProperty("sid").GetString()}.wav"));
        rsa.Dispose();
    }

    [Fact]
    public async Task Media_supports_Range_for_ciphertext_and_for_server_managed_audio()
    {
        await using var vault = await VaultServer.StartAsync();
        var plainWav = Audio.Wav(3);
        var (_, managed) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), plainWav);
        var (rsa, _) = await vault.EnableEncryptionAsync();
        var (_, encrypted) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(3));
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var managedUrl = $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{managed.GetProperty("sid").GetString()}";
        var encryptedUrl = $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{encrypted.GetProperty("sid").GetString()}";
        var ciphertext = await http.GetByteArrayAsync(encryptedUrl);

        foreach (var (url, full) in new[] { (managedUrl, plainWav), (encryptedUrl, ciphertext) })
        {
            foreach (var (from, to) in new (long?, long?)[] { (10, 99), (0, 0), (full.Length - 100, null), (null, 50), (20_000, 40_000), (40_000, 99_999_999) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Range = new RangeHeaderValue(from, to);
                var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
                long start = from ?? full.Length - to!.Value;
                long end = from is null ? full.Length - 1 : Math.Min(to ?? full.Length - 1, full.Length - 1);
                Assert.Equal(full[(int)start..(int)(end + 1)], await response.Content.ReadAsByteArrayAsync());
                Assert.Equal($"bytes {start}-{end}/{full.Length}", response.Content.Headers.ContentRange!.ToString());
            }
            using var beyond = new HttpRequestMessage(HttpMethod.Get, url);
            beyond.Headers.Range = new RangeHeaderValue(full.Length + 10, null);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await http.SendAsync(beyond)).StatusCode);
        }
        rsa.Dispose();
    }

    [Fact]
    public async Task Mp3_of_an_encrypted_recording_is_16109_and_delete_removes_the_bytes()
    {
        await using var vault = await VaultServer.StartAsync();
        var (rsa, _) = await vault.EnableEncryptionAsync();
        var (_, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(2));
        var sid = body.GetProperty("sid").GetString()!;
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var mp3 = await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{sid}.mp3");
        Assert.Equal(16109, JsonDocument.Parse(await mp3.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());

        Assert.Single(await TestMedia.EverythingAsync(vault.DataDir));
        Assert.True(await RecordingResource.DeleteAsync(pathSid: sid, client: vault.Twilio()));
        Assert.Empty(await TestMedia.EverythingAsync(vault.DataDir));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{sid}")).StatusCode);
        rsa.Dispose();
    }

    [Fact]
    public async Task The_SDK_pages_and_filters_recordings_by_call()
    {
        await using var vault = await VaultServer.StartAsync();
        var call = Audio.CallSid();
        var sids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            var (_, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, i < 3 ? call : Audio.CallSid(), Audio.Wav(1));
            sids.Add(body.GetProperty("sid").GetString()!);
        }
        var all = (await RecordingResource.ReadAsync(pageSize: 2, client: vault.Twilio())).Select(r => r.Sid).ToList();
        Assert.Equal(Enumerable.Reverse(sids), all);
        var ofCall = (await RecordingResource.ReadAsync(callSid: call, pageSize: 2, client: vault.Twilio())).Select(r => r.Sid).ToList();
        Assert.Equal(Enumerable.Reverse(sids.Take(3)), ofCall);
        var callScoped = (await Twilio.Rest.Api.V2010.Account.Call.RecordingResource.ReadAsync(pathCallSid: call, client: vault.Twilio())).Select(r => r.Sid).ToList();
        Assert.Equal(ofCall, callScoped);
        // Forward and back again through the links of the list envelope.
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        async Task<JsonElement> Get(string uri) => JsonDocument.Parse(await http.GetStringAsync(uri)).RootElement;
        var first = await Get($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json?PageSize=2");
        var second = await Get(first.GetProperty("next_page_uri").GetString()!);
        var third = await Get(second.GetProperty("next_page_uri").GetString()!);
        Assert.Equal(JsonValueKind.Null, third.GetProperty("next_page_uri").ValueKind);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("previous_page_uri").ValueKind);
        var back = await Get(second.GetProperty("previous_page_uri").GetString()!);
        string[] Sids(JsonElement page) => page.GetProperty("recordings").EnumerateArray().Select(r => r.GetProperty("sid").GetString()!).ToArray();
        Assert.Equal(Sids(first), Sids(back));
        Assert.Equal(all, Sids(first).Concat(Sids(second)).Concat(Sids(third)));
        Assert.Equal(JsonValueKind.Null, back.GetProperty("previous_page_uri").ValueKind);

        var today = (await RecordingResource.ReadAsync(dateCreated: DateTime.UtcNow.Date, client: vault.Twilio())).Count();
        Assert.Equal(5, today);
        var none = (await RecordingResource.ReadAsync(dateCreatedBefore: DateTime.UtcNow.AddDays(-1), client: vault.Twilio())).Count();
        Assert.Equal(0, none);
    }

    [Fact]
    public async Task Bad_uploads_are_refused_before_anything_is_stored()
    {
        await using var vault = await VaultServer.StartAsync();
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Encoding.ASCII.GetBytes("this is not audio"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not a RIFF/WAVE file", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, "CAnot-a-sid", Audio.Wav(1));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1), "RecordingStatusCallback=ftp://x");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1), "RecordingStatusCallbackEvent=finished");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Empty(await RecordingResource.ReadAsync(client: vault.Twilio()));
        Assert.Empty(await TestMedia.EverythingAsync(vault.DataDir));
    }
}
