using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Twilio.Rest.Accounts.V1.Credential;
using Twilio.Rest.Api.V2010;

namespace VoiceVault.Server.Tests;

public sealed class EncryptionSettingTests
{
    private static async Task<JsonElement> Post(HttpClient http, string account, Dictionary<string, string> form, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await http.PostAsync($"/2010-04-01/Accounts/{account}/RecordingEncryption.json", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task Subaccounts_inherit_the_parents_setting_until_they_have_their_own()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        using var rsa = RSA.Create(2048);
        var parentKey = await PublicKeyResource.CreateAsync(publicKey: rsa.ExportSubjectPublicKeyInfoPem(), client: vault.Twilio());
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);

        var initial = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{sub.Sid}/RecordingEncryption.json")).RootElement;
        Assert.False(initial.GetProperty("enabled").GetBoolean());

        var parent = await Post(http, vault.AccountSid, new() { ["Enabled"] = "true", ["PublicKeySid"] = parentKey.Sid });
        Assert.True(parent.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, parent.GetProperty("inherited_from").ValueKind);

        using var asSub = vault.Http(sub.Sid, sub.AuthToken);
        var inherited = JsonDocument.Parse(await asSub.GetStringAsync($"/2010-04-01/Accounts/{sub.Sid}/RecordingEncryption.json")).RootElement;
        Assert.True(inherited.GetProperty("enabled").GetBoolean());
        Assert.Equal(parentKey.Sid, inherited.GetProperty("public_key_sid").GetString());
        Assert.Equal(vault.AccountSid, inherited.GetProperty("inherited_from").GetString());
        Assert.Equal(sub.Sid, inherited.GetProperty("account_sid").GetString());

        // Its own setting (off) overrides the parent's; the parent's key is usable by the subaccount.
        var own = await Post(asSub, sub.Sid, new() { ["Enabled"] = "false" });
        Assert.False(own.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, own.GetProperty("inherited_from").ValueKind);
        var back = await Post(asSub, sub.Sid, new() { ["Enabled"] = "true", ["PublicKeySid"] = parentKey.Sid });
        Assert.True(back.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Keys_of_other_accounts_and_bad_values_are_refused()
    {
        await using var vault = await VaultServer.StartAsync();
        var a = await AccountResource.CreateAsync(friendlyName: "a", client: vault.Twilio());
        var b = await AccountResource.CreateAsync(friendlyName: "b", client: vault.Twilio());
        using var rsa = RSA.Create(2048);
        var keyOfB = await PublicKeyResource.CreateAsync(publicKey: rsa.ExportSubjectPublicKeyInfoPem(), client: vault.Twilio(b.Sid, b.AuthToken));
        using var asA = vault.Http(a.Sid, a.AuthToken);
        var error = await Post(asA, a.Sid, new() { ["Enabled"] = "true", ["PublicKeySid"] = keyOfB.Sid }, HttpStatusCode.BadRequest);
        Assert.Contains("is not a public key of this account", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        error = await Post(asA, a.Sid, new() { ["Enabled"] = "yes" }, HttpStatusCode.BadRequest);
        Assert.Contains("true or false", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        error = await Post(asA, a.Sid, new() { ["Enabled"] = "true" }, HttpStatusCode.BadRequest);
        Assert.Contains("needs a PublicKeySid", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
