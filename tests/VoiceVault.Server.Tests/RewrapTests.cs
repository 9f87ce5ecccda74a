using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Twilio.Rest.Api.V2010;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>Key rotation without touching audio (docs/api.md §7a, §10): the vault's wraps and `voicevault rewrap`.</summary>
public sealed class RewrapTests
{
    private static Task<(int Exit, string Stdout, string Stderr)> ToolAsync(VaultServer vault, params string[] args) =>
        TestProcess.ToolkitAsync(TestProcess.TwilioEnvironment(vault.AccountSid, vault.AuthToken), args);

    private static async Task<int> CountUnderAsync(HttpClient http, string account, string keySid) =>
        (await http.GetFromJsonAsync<JsonElement>($"/2010-04-01/Accounts/{account}/Recordings.json?EncryptionPublicKeySid={keySid}&PageSize=1000"))
            .GetProperty("recordings").GetArrayLength();

    [Fact]
    public async Task Rewrap_moves_100_recordings_to_a_new_key_and_they_decrypt_without_the_old_one()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "sub", client: vault.Twilio());
        var root = Directory.CreateTempSubdirectory("vv-rewrap-").FullName;
        try
        {
            using var oldKey = RSA.Create(2048);
            using var newKey = RSA.Create(2048);
            var oldSid = await vault.AddKeyAsync(oldKey);
            await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, oldSid);
            var originals = new Dictionary<string, byte[]>();
            await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
            {
                var wav = Audio.Wav(1);
                var (account, token) = i % 2 == 0 ? (vault.AccountSid, vault.AuthToken) : (sub.Sid, sub.AuthToken);
                var (status, body) = await vault.UploadAsync(account, token, Audio.CallSid(), wav);
                Assert.Equal(HttpStatusCode.Created, status);
                lock (originals)
                {
                    originals[body.GetProperty("sid").GetString()!] = wav;
                }
            });
            var newSid = await vault.AddKeyAsync(newKey);
            File.WriteAllText(Path.Combine(root, "new.pub"), newKey.ExportSubjectPublicKeyInfoPem());
            var oldRing = Keyring.Open(Path.Combine(root, "old-ring"), create: true);
            oldRing.Add(System.Text.Encoding.ASCII.GetBytes(oldKey.ExportPkcs8PrivateKeyPem()), oldSid);
            using var http = vault.Http(vault.AccountSid, vault.AuthToken);
            Assert.Equal(50, await CountUnderAsync(http, vault.AccountSid, oldSid));

            var (exit, stdout, stderr) = await ToolAsync(vault, "rewrap", "--base-url", vault.BaseUri.ToString(), "--from", oldSid, "--to-sid", newSid,
                "--to-public-key", Path.Combine(root, "new.pub"), "--keyring", Path.Combine(root, "old-ring"), "--subaccounts", "--json");
            Assert.True(exit == 0, stdout + stderr);
            Assert.Equal(100, JsonDocument.Parse(stdout).RootElement.GetProperty("rewrapped").GetInt32());
            foreach (var account in new[] { vault.AccountSid, sub.Sid })
            {
                Assert.Equal(0, await CountUnderAsync(http, account, oldSid));
                Assert.Equal(50, await CountUnderAsync(http, account, newSid));
            }
            // Every wrap is kept, newest first; the recording shows the newest.
            var any = originals.Keys.First();
            var wraps = (await http.GetFromJsonAsync<JsonElement>($"/v1/Recordings/{any}/EncryptionDetails")).GetProperty("encryption_details");
            Assert.Equal([newSid, oldSid], wraps.EnumerateArray().Select(w => w.GetProperty("public_key_sid").GetString()));
            using (var oldCek = KeyWrap.Unwrap(oldKey, Convert.FromBase64String(wraps[1].GetProperty("encrypted_cek").GetString()!)))
            using (var newCek = KeyWrap.Unwrap(newKey, Convert.FromBase64String(wraps[0].GetProperty("encrypted_cek").GetString()!)))
            {
                Assert.True(oldCek.Bytes.SequenceEqual(newCek.Bytes), "the new wrap holds another CEK");
            }

            // The old key gone from the keyring: everything still decrypts, with the new one alone.
            var newRing = Keyring.Open(Path.Combine(root, "new-ring"), create: true);
            newRing.Add(System.Text.Encoding.ASCII.GetBytes(newKey.ExportPkcs8PrivateKeyPem()), newSid);
            var outDir = Path.Combine(root, "out");
            var fetched = await ToolAsync(vault, "fetch", "--base-url", vault.BaseUri.ToString(), "--out", outDir, "--keyring", Path.Combine(root, "new-ring"), "--subaccounts", "--json");
            Assert.True(fetched.Exit == 0, fetched.Stdout + fetched.Stderr);
            var wavs = Directory.EnumerateFiles(outDir, "*.wav", SearchOption.AllDirectories).ToList();
            Assert.Equal(100, wavs.Count);
            Assert.All(wavs, f => Assert.Equal(originals[Path.GetFileNameWithoutExtension(f)], File.ReadAllBytes(f)));

            // Run again: nothing is listed under the old key, nothing to do.
            var again = await ToolAsync(vault, "rewrap", "--base-url", vault.BaseUri.ToString(), "--from", oldSid, "--to-sid", newSid,
                "--to-public-key", Path.Combine(root, "new.pub"), "--keyring", Path.Combine(root, "old-ring"), "--subaccounts", "--json");
            Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
            Assert.Equal(0, JsonDocument.Parse(again.Stdout).RootElement.GetProperty("rewrapped").GetInt32());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_key_that_does_not_open_a_recording_or_a_wrap_whose_tag_fails_posts_nothing()
    {
        await using var vault = await VaultServer.StartAsync();
        var root = Directory.CreateTempSubdirectory("vv-rewrap-").FullName;
        try
        {
            var (oldKey, oldSid) = await vault.EnableEncryptionAsync();
            string last = "";
            for (int i = 0; i < 3; i++)
            {
                last = (await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1))).Body.GetProperty("sid").GetString()!;
            }
            // A wrap to the right key of the wrong CEK (the vault cannot tell): it unwraps, but the tag says no.
            using var http = vault.Http(vault.AccountSid, vault.AuthToken);
            using (var bogus = ContentKey.Generate())
            {
                (await http.PostAsync($"/v1/Recordings/{last}/EncryptionDetails", new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["PublicKeySid"] = oldSid, ["EncryptedCek"] = Convert.ToBase64String(KeyWrap.Wrap(oldKey, bogus)),
                }))).EnsureSuccessStatusCode();
            }
            using var impostor = RSA.Create(2048);
            using var newKey = RSA.Create(2048);
            var newSid = await vault.AddKeyAsync(newKey);
            File.WriteAllText(Path.Combine(root, "impostor.pem"), impostor.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(Path.Combine(root, "old.pem"), oldKey.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(Path.Combine(root, "new.pub"), newKey.ExportSubjectPublicKeyInfoPem());
            Task<(int Exit, string Stdout, string Stderr)> RewrapAsync(string key) => ToolAsync(vault, "rewrap", "--base-url", vault.BaseUri.ToString(),
                "--from", oldSid, "--to-sid", newSid, "--to-public-key", Path.Combine(root, "new.pub"), "--key", Path.Combine(root, key), "--json");

            var (exit, stdout, _) = await RewrapAsync("impostor.pem");
            Assert.Equal(1, exit);
            Assert.Equal(3, JsonDocument.Parse(stdout).RootElement.GetProperty("failed").GetInt32());
            Assert.Equal(3, await CountUnderAsync(http, vault.AccountSid, oldSid));
            Assert.Equal(0, await CountUnderAsync(http, vault.AccountSid, newSid));

            (exit, stdout, _) = await RewrapAsync("old.pem");
            Assert.Equal(1, exit);
            var results = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(2, results.GetProperty("rewrapped").GetInt32());
            var refused = results.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("status").GetString() == "failed");
            Assert.Equal(last, refused.GetProperty("recording").GetString());
            Assert.Contains("authentication", refused.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
            Assert.Equal([last], (await http.GetFromJsonAsync<JsonElement>($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json?EncryptionPublicKeySid={oldSid}"))
                .GetProperty("recordings").EnumerateArray().Select(r => r.GetProperty("sid").GetString()));
            Assert.Equal(2, await CountUnderAsync(http, vault.AccountSid, newSid));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task The_vault_refuses_wraps_to_foreign_keys_of_the_wrong_size_for_unencrypted_recordings_and_from_other_tenants()
    {
        await using var vault = await VaultServer.StartAsync();
        var a = await AccountResource.CreateAsync(friendlyName: "a", client: vault.Twilio());
        var b = await AccountResource.CreateAsync(friendlyName: "b", client: vault.Twilio());
        var (_, keyOfA) = await vault.EnableEncryptionAsync(a.Sid);
        using var rsaB = RSA.Create(2048);
        var keyOfB = await vault.AddKeyAsync(rsaB, b.Sid);
        var (_, recording) = await vault.UploadAsync(a.Sid, a.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var sid = recording.GetProperty("sid").GetString()!;
        var (_, plain) = await vault.UploadAsync(b.Sid, b.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var wrap = Convert.ToBase64String(RandomNumberGenerator.GetBytes(256));
        async Task<(HttpStatusCode Status, string Body)> PostAsync(HttpClient http, string recordingSid, string keySid, string cek)
        {
            var response = await http.PostAsync($"/v1/Recordings/{recordingSid}/EncryptionDetails",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["PublicKeySid"] = keySid, ["EncryptedCek"] = cek }));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        using var asA = vault.Http(a.Sid, a.AuthToken);
        using var asB = vault.Http(b.Sid, b.AuthToken);
        var foreign = await PostAsync(asA, sid, keyOfB, wrap);
        Assert.Equal(HttpStatusCode.BadRequest, foreign.Status);
        Assert.Contains("is not a public key of the recording's account", foreign.Body, StringComparison.Ordinal);
        var size = await PostAsync(asA, sid, keyOfA, Convert.ToBase64String(RandomNumberGenerator.GetBytes(100)));
        Assert.Equal(HttpStatusCode.BadRequest, size.Status);
        Assert.Contains("is 100 bytes", size.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(asA, sid, keyOfA, "not base64!")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(asB, plain.GetProperty("sid").GetString()!, keyOfB, wrap)).Status);
        // Another tenant: as if the recording did not exist, to read or to write.
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(asB, sid, keyOfB, wrap)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await asB.GetAsync($"/v1/Recordings/{sid}/EncryptionDetails")).StatusCode);
        // Nothing refused was kept: one wrap, the original.
        var wraps = (await asA.GetFromJsonAsync<JsonElement>($"/v1/Recordings/{sid}/EncryptionDetails")).GetProperty("encryption_details");
        Assert.Equal([keyOfA], wraps.EnumerateArray().Select(w => w.GetProperty("public_key_sid").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, (await asA.GetAsync($"/2010-04-01/Accounts/{a.Sid}/Recordings.json?EncryptionPublicKeySid=nope")).StatusCode);
    }
}
