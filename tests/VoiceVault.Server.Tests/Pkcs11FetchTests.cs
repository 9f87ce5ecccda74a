using System.Net;
using System.Security.Cryptography;
using VoiceVault.Tests.Shared;

namespace VoiceVault.Server.Tests;

/// <summary>
/// `voicevault fetch` with the account's private key in a PKCS#11 token (a throwaway SoftHSM2
/// token): the key made inside the token, its public half registered at the vault, every
/// recording fetched in parallel and unwrapped by the token.
/// </summary>
public sealed class Pkcs11FetchTests
{
    [Fact]
    public async Task Fetch_decrypts_every_recording_with_a_key_that_never_leaves_its_token()
    {
        using var hsm = new SoftHsm();
        var token = hsm.Token("archive");
        await using var vault = await VaultServer.StartAsync();
        var root = Directory.CreateTempSubdirectory("vv-p11-fetch-").FullName;
        try
        {
            var environment = TestProcess.TwilioEnvironment(vault.AccountSid, vault.AuthToken);
            foreach (var (name, value) in hsm.Environment())
            {
                environment[name] = value;
            }
            var uri = $"pkcs11:token={token};object=recordings";
            var publicPem = Path.Combine(root, "archive.pub");
            var (exit, _, stderr) = await TestProcess.ToolkitAsync(environment, "keygen", "--pkcs11", uri, "--public-out", publicPem, "--bits", "2048");
            Assert.True(exit == 0, stderr);
            using var publicKey = RSA.Create();
            publicKey.ImportFromPem(File.ReadAllText(publicPem));
            var sid = await vault.AddKeyAsync(publicKey);
            await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, sid);
            var originals = new Dictionary<string, byte[]>();
            for (int i = 0; i < 12; i++)
            {
                var wav = Audio.Wav(1);
                var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav);
                Assert.Equal(HttpStatusCode.Created, status);
                originals[body.GetProperty("sid").GetString()!] = wav;
            }

            var outDir = Path.Combine(root, "out");
            (exit, _, stderr) = await TestProcess.ToolkitAsync(environment, "fetch", "--base-url", vault.BaseUri.ToString(), "--out", outDir, "--key", uri, "--jobs", "4", "--quiet");
            Assert.True(exit == 0, stderr);
            var wavs = Directory.EnumerateFiles(outDir, "*.wav", SearchOption.AllDirectories).ToList();
            Assert.Equal(originals.Keys.Order(StringComparer.Ordinal), wavs.Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal));
            foreach (var file in wavs)
            {
                Assert.Equal(originals[Path.GetFileNameWithoutExtension(file)], File.ReadAllBytes(file));
            }

            // The wrong PIN fetches nothing and says why.
            environment["VOICEVAULT_PKCS11_PIN"] = "not-the-pin";
            (exit, _, stderr) = await TestProcess.ToolkitAsync(environment, "fetch", "--base-url", vault.BaseUri.ToString(), "--out", Path.Combine(root, "other"), "--key", uri);
            Assert.Equal(1, exit);
            Assert.Contains($"the PIN for token '{token}' is wrong", stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(root, "other")) && Directory.EnumerateFiles(Path.Combine(root, "other"), "*.wav", SearchOption.AllDirectories).Any());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
