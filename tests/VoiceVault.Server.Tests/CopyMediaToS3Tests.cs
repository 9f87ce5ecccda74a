using System.Net;
using System.Security.Cryptography;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>The operator's move of an embedded vault's media into S3: dry run, copy, verify, resume, run on S3.</summary>
public sealed class CopyMediaToS3Tests
{
    private static Task<(int Exit, string Output)> CopyAsync(string dataDir, string bucketKey, params string[] extra) =>
        TestProcess.ServerCommandAsync(["copy-media-to-s3", "--VoiceVault:DataDir", dataDir, .. TestMedia.S3Args(TestMedia.OptionsFor(bucketKey)), .. extra]);

    [Fact]
    public async Task An_embedded_vaults_media_copies_into_S3_verified_resumably_and_the_vault_runs_on_it()
    {
        var bucketKey = "copy-media-" + Guid.NewGuid().ToString("N");
        string[] embedded = ["--VoiceVault:Database", "sqlite", "--VoiceVault:Media", "files"];
        var dataDir = Directory.CreateTempSubdirectory("vv-copy-media-").FullName;
        try
        {
            using var rsa = RSA.Create(2048);
            var wavs = new Dictionary<string, byte[]>();
            string sid, token, customerSid;
            await using (var vault = await VaultServer.StartAsync(dataDir, keepData: true, extraArgs: embedded))
            {
                (sid, token) = (vault.AccountSid, vault.AuthToken);
                for (int i = 0; i < 2; i++)
                {
                    var wav = Audio.Wav(1 + i);
                    wavs[(await vault.UploadAsync(sid, token, Audio.CallSid(), wav)).Body.GetProperty("sid").GetString()!] = wav;   // server-managed key
                }
                await vault.SetEncryptionAsync(sid, enabled: true, await vault.AddKeyAsync(rsa));
                var customerWav = Audio.Wav(3);
                customerSid = (await vault.UploadAsync(sid, token, Audio.CallSid(), customerWav)).Body.GetProperty("sid").GetString()!;
                wavs[customerSid] = customerWav;
            }
            var files = Directory.GetFiles(Path.Combine(dataDir, "media"), "*", SearchOption.AllDirectories);
            Assert.Equal(3, files.Length);

            // A dry run says what it would copy and writes nothing.
            var (exit, output) = await CopyAsync(dataDir, bucketKey, "--dry-run");
            Assert.True(exit == 0, output);
            Assert.Contains("would copy 3 objects", output, StringComparison.Ordinal);
            Assert.Empty(await TestMedia.EverythingAsync(bucketKey, s3: true));

            (exit, output) = await CopyAsync(dataDir, bucketKey);
            Assert.True(exit == 0, output);
            Assert.Contains("copied 3 objects", output, StringComparison.Ordinal);
            Assert.Contains("SHA-256 verified", output, StringComparison.Ordinal);
            var inBucket = await TestMedia.EverythingAsync(bucketKey, s3: true);
            Assert.Equal(files.Select(f => Path.GetRelativePath(Path.Combine(dataDir, "media"), f)).Order(), inBucket.Select(o => o.Name).Order());
            Assert.All(inBucket, o => Assert.Equal(File.ReadAllBytes(Path.Combine(dataDir, "media", o.Name)), o.Content));

            // Again: nothing to do. After losing an object (and damaging another): only those are copied.
            (exit, output) = await CopyAsync(dataDir, bucketKey);
            Assert.True(exit == 0, output);
            Assert.Contains("copied 0 objects (0 bytes), 3 already in the bucket and verified", output, StringComparison.Ordinal);
            using (var s3 = Storage.S3.S3MediaStore.CreateClient(TestMedia.OptionsFor(bucketKey)))
            {
                await s3.DeleteObjectAsync(TestMedia.BucketOf(bucketKey), inBucket[0].Name);
                // Cut short, still carrying the hash of the whole (as an interrupted overwrite could leave it).
                var whole = await s3.GetObjectMetadataAsync(TestMedia.BucketOf(bucketKey), inBucket[1].Name);
                var damaged = new Amazon.S3.Model.PutObjectRequest { BucketName = TestMedia.BucketOf(bucketKey), Key = inBucket[1].Name, ContentBody = "damaged" };
                damaged.Metadata["voicevault-sha256"] = whole.Metadata["voicevault-sha256"];
                Assert.NotNull(whole.Metadata["voicevault-sha256"]);
                await s3.PutObjectAsync(damaged);
            }
            (exit, output) = await CopyAsync(dataDir, bucketKey);
            Assert.True(exit == 0, output);
            Assert.Contains("copied 2 objects", output, StringComparison.Ordinal);
            Assert.Contains("1 already in the bucket", output, StringComparison.Ordinal);

            // The same vault on S3 (media folder moved away): every recording plays or decrypts as before.
            Directory.Move(Path.Combine(dataDir, "media"), Path.Combine(dataDir, "media-moved"));
            await using (var onS3 = await VaultServer.StartAsync(dataDir, sid, token, keepData: true, extraArgs: ["--VoiceVault:Database", "sqlite",
                "--VoiceVault:Media", "s3", .. TestMedia.S3Args(TestMedia.OptionsFor(bucketKey) with { CreateBucket = false })]))
            {
                using var http = onS3.Http(sid, token);
                foreach (var (recordingSid, wav) in wavs.Where(w => w.Key != customerSid))
                {
                    Assert.Equal(wav, await http.GetByteArrayAsync($"/2010-04-01/Accounts/{sid}/Recordings/{recordingSid}.wav"));
                }
                var details = EncryptionDetails.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{sid}/Recordings/{customerSid}.json"));
                Assert.Equal(wavs[customerSid], Customer.Decrypt(rsa, details, await http.GetByteArrayAsync($"/2010-04-01/Accounts/{sid}/Recordings/{customerSid}")));
            }
        }
        finally
        {
            await TestMedia.DropAsync(bucketKey, force: true);
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Credentials_the_store_refuses_are_reported_with_its_answer_not_an_empty_error()
    {
        var dataDir = Directory.CreateTempSubdirectory("vv-copy-media-").FullName;
        var file = Path.Combine(dataDir, "media", "AC" + new string('0', 32), "RE" + new string('0', 32));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(1000));
        try
        {
            // A dry run asks for each object's metadata first: a HEAD, whose error answer has no body to take a message from.
            var (exit, output) = await TestProcess.RunAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "VoiceVault.Server.dll"), "copy-media-to-s3", "--dry-run", "--VoiceVault:DataDir", dataDir, .. TestMedia.S3Args(TestMedia.OptionsFor(dataDir))],
                new Dictionary<string, string?> { ["AWS_SECRET_ACCESS_KEY"] = "not-the-secret" });
            Assert.Equal(1, exit);
            var error = Assert.Single(output.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal));
            Assert.Contains("Forbidden", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
