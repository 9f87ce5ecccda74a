using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Twilio.Rest.Accounts.V1.Credential;
using Twilio.Rest.Api.V2010;

namespace VoiceVault.Server.Tests;

public sealed class PublicKeyTests
{
    [Fact]
    public async Task The_Twilio_SDK_creates_lists_pages_renames_and_deletes_public_keys()
    {
        await using var vault = await VaultServer.StartAsync();
        var client = vault.Twilio();
        var sids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            using var rsa = RSA.Create(2048);
            var key = await PublicKeyResource.CreateAsync(publicKey: rsa.ExportSubjectPublicKeyInfoPem(), friendlyName: $"key {i}", client: client);
            Assert.Matches("^CR[0-9a-f]{32}$", key.Sid);
            Assert.Equal(vault.AccountSid, key.AccountSid);
            Assert.EndsWith($"/v1/Credentials/PublicKeys/{key.Sid}", key.Url.ToString(), StringComparison.Ordinal);
            sids.Add(key.Sid);
        }
        var listed = (await PublicKeyResource.ReadAsync(pageSize: 2, client: client)).Select(k => k.Sid).ToList();
        Assert.Equal(sids, listed);

        var renamed = await PublicKeyResource.UpdateAsync(pathSid: sids[1], friendlyName: "rotated", client: client);
        Assert.Equal("rotated", renamed.FriendlyName);
        Assert.True(await PublicKeyResource.DeleteAsync(pathSid: sids[0], client: client));
        var ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() => PublicKeyResource.FetchAsync(pathSid: sids[0], client: client));
        Assert.Equal(20404, ex.Code);
    }

    [Fact]
    public async Task Key_material_is_never_returned_after_creation()
    {
        await using var vault = await VaultServer.StartAsync();
        using var rsa = RSA.Create(2048);
        var pem = rsa.ExportSubjectPublicKeyInfoPem();
        var key = await PublicKeyResource.CreateAsync(publicKey: pem, client: vault.Twilio());
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var body = await http.GetStringAsync($"/v1/Credentials/PublicKeys/{key.Sid}");
        var base64 = pem.Split('\n')[1];
        Assert.DoesNotContain(base64, body, StringComparison.Ordinal);
        Assert.Equal(["sid", "account_sid", "friendly_name", "date_created", "date_updated", "url"],
            JsonDocument.Parse(body).RootElement.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Fact]
    public async Task Pkcs1_public_keys_are_accepted_and_subaccount_keys_filed_under_the_subaccount()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        using var rsa = RSA.Create(3072);
        var key = await PublicKeyResource.CreateAsync(publicKey: rsa.ExportRSAPublicKeyPem(), accountSid: sub.Sid, client: vault.Twilio());
        Assert.Equal(sub.Sid, key.AccountSid);
        // The subaccount sees it; the parent may fetch it too.
        Assert.Equal(key.Sid, (await PublicKeyResource.FetchAsync(pathSid: key.Sid, client: vault.Twilio(sub.Sid, sub.AuthToken))).Sid);
        Assert.Equal(key.Sid, (await PublicKeyResource.FetchAsync(pathSid: key.Sid, client: vault.Twilio())).Sid);
    }

    public static TheoryData<string, string> Refusals()
    {
        using var small = RSA.Create(1024);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new TheoryData<string, string>
        {
            { small.ExportSubjectPublicKeyInfoPem(), "1024 bits" },
            { ec.ExportSubjectPublicKeyInfoPem(), "an EC public key" },
            { "not a key at all", "text that is not a key" },
            { "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n", "truncated or damaged PEM" },
        };
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Unusable_keys_are_refused_saying_what_is_wrong(string text, string says)
    {
        await using var vault = await VaultServer.StartAsync();
        var ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() => PublicKeyResource.CreateAsync(publicKey: text, client: vault.Twilio()));
        Assert.Equal(400, ex.Status);
        Assert.Contains(says, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_private_key_pasted_as_public_is_refused_and_left_nowhere()
    {
        await using var vault = await VaultServer.StartAsync();
        using var rsa = RSA.Create(2048);
        foreach (var pem in new[] { rsa.ExportPkcs8PrivateKeyPem(), rsa.ExportRSAPrivateKeyPem() })
        {
            var ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() => PublicKeyResource.CreateAsync(publicKey: pem, client: vault.Twilio()));
            Assert.Equal(400, ex.Status);
            Assert.Contains("this is a PRIVATE key", ex.Message, StringComparison.Ordinal);
            // No line of the key's body may appear in the data folder or the logs.
            var lines = pem.Split('\n').Where(l => l.Length > 20 && !l.StartsWith("-----", StringComparison.Ordinal)).ToList();
            foreach (var line in lines)
            {
                Assert.DoesNotContain(vault.Logs, log => log.Contains(line, StringComparison.Ordinal));
                foreach (var (path, content) in vault.DataFiles())
                {
                    Assert.True(content.AsSpan().IndexOf(Encoding.ASCII.GetBytes(line)) < 0, $"private key text found in {path}");
                }
            }
        }
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var list = JsonDocument.Parse(await http.GetStringAsync("/v1/Credentials/PublicKeys")).RootElement;
        Assert.Equal(0, list.GetProperty("credentials").GetArrayLength());
    }

    [Fact]
    public async Task A_missing_key_or_too_long_name_is_a_400()
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var response = await http.PostAsync("/v1/Credentials/PublicKeys", new FormUrlEncodedContent(new Dictionary<string, string> { ["FriendlyName"] = "x" }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("PublicKey is required", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var rsa = RSA.Create(2048);
        response = await http.PostAsync("/v1/Credentials/PublicKeys", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem(),
            ["FriendlyName"] = new string('n', 65),
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
