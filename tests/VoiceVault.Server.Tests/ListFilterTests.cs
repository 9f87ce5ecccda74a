using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Twilio.Rest.Api.V2010;

namespace VoiceVault.Server.Tests;

/// <summary>The list extensions the console uses (Status, AccountSid on keys) and page links that keep every filter.</summary>
public sealed class ListFilterTests
{
    [Fact]
    public async Task Recordings_filter_by_status_and_every_page_link_keeps_the_filters()
    {
        await using var vault = await VaultServer.StartAsync();
        // Three completed uploads and one failed (encryption on, with no usable key).
        for (int i = 0; i < 3; i++)
        {
            await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        }
        var (_, sid) = await vault.EnableEncryptionAsync();
        await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.DeleteAsync(pathSid: sid, client: vault.Twilio());
        var (_, failed) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var path = $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json";

        var onlyFailed = await http.GetFromJsonAsync<JsonElement>($"{path}?Status=failed");
        Assert.Equal([failed.GetProperty("sid").GetString()], onlyFailed.GetProperty("recordings").EnumerateArray().Select(r => r.GetProperty("sid").GetString()));
        var both = await http.GetFromJsonAsync<JsonElement>($"{path}?Status=failed,completed");
        Assert.Equal(4, both.GetProperty("recordings").GetArrayLength());
        var bad = await http.GetAsync($"{path}?Status=done");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("Status must be", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Page by page with a date and a status filter: the links carry both, and the pages hold exactly the filtered rows.
        var today = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var seen = new List<string>();
        var next = $"{path}?Status=completed&DateCreated%3E={today}&PageSize=1";
        while (next is not null)
        {
            var page = await http.GetFromJsonAsync<JsonElement>(next);
            seen.AddRange(page.GetProperty("recordings").EnumerateArray().Select(r => r.GetProperty("status").GetString()!));
            next = page.GetProperty("next_page_uri").GetString();
            if (next is not null)
            {
                Assert.Contains("Status=completed", next, StringComparison.Ordinal);
                Assert.Contains($"DateCreated%3E={today}", next, StringComparison.Ordinal);
            }
        }
        Assert.Equal(["completed", "completed", "completed"], seen);
        var tomorrow = await http.GetFromJsonAsync<JsonElement>($"{path}?DateCreated%3E={DateTimeOffset.UtcNow.AddDays(1):yyyy-MM-dd}");
        Assert.Equal(0, tomorrow.GetProperty("recordings").GetArrayLength());
    }

    [Fact]
    public async Task A_parent_lists_a_subaccounts_public_keys_and_no_one_lists_a_strangers()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "sub", client: vault.Twilio());
        var other = await AccountResource.CreateAsync(friendlyName: "other", client: vault.Twilio());
        using var rsa = RSA.Create(2048);
        var subKey = await vault.AddKeyAsync(rsa, sub.Sid);
        using var parent = vault.Http(vault.AccountSid, vault.AuthToken);
        var listed = await parent.GetFromJsonAsync<JsonElement>($"/v1/Credentials/PublicKeys?AccountSid={sub.Sid}");
        Assert.Equal([subKey], listed.GetProperty("credentials").EnumerateArray().Select(k => k.GetProperty("sid").GetString()));
        var own = await parent.GetFromJsonAsync<JsonElement>("/v1/Credentials/PublicKeys");
        Assert.Equal(0, own.GetProperty("credentials").GetArrayLength());
        using var sibling = vault.Http(other.Sid, other.AuthToken);
        Assert.Equal(HttpStatusCode.NotFound, (await sibling.GetAsync($"/v1/Credentials/PublicKeys?AccountSid={sub.Sid}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await sibling.GetAsync($"/v1/Credentials/PublicKeys?AccountSid={vault.AccountSid}")).StatusCode);
    }
}
