using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Twilio.Rest.Api.V2010;
using Twilio.Rest.Api.V2010.Account;

namespace VoiceVault.Server.Tests;

public sealed class AccountTests
{
    /// <summary>Waits until <paramref name="call"/> is refused by the vault, and returns the refusal.</summary>
    private static async Task<Twilio.Exceptions.ApiException> RefusedAsync(Func<Task> call, string what, TimeSpan? timeout = null)
    {
        Twilio.Exceptions.ApiException? refused = null;
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await call();
                return false;
            }
            catch (Twilio.Exceptions.ApiException e)
            {
                refused = e;
                return true;
            }
        }, what, timeout);
        return refused!;
    }

    [Fact]
    public async Task The_Twilio_SDK_creates_fetches_pages_and_suspends_subaccounts()
    {
        await using var vault = await VaultServer.StartAsync();
        var client = vault.Twilio();
        var created = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            var sub = await AccountResource.CreateAsync(friendlyName: $"tenant {i}", client: client);
            Assert.Matches("^AC[0-9a-f]{32}$", sub.Sid);
            Assert.Equal(vault.AccountSid, sub.OwnerAccountSid);
            Assert.Equal(AccountResource.StatusEnum.Active, sub.Status);
            Assert.False(string.IsNullOrEmpty(sub.AuthToken));
            created.Add(sub.Sid);
        }
        // Pages of two: the SDK follows next_page_uri through all of them.
        var all = (await AccountResource.ReadAsync(pageSize: 2, client: client)).Select(a => a.Sid).ToList();
        Assert.Equal([vault.AccountSid, .. created], all);

        var fetched = await AccountResource.FetchAsync(pathSid: created[2], client: client);
        Assert.Equal("tenant 2", fetched.FriendlyName);
        Assert.True(fetched.DateCreated > DateTime.UtcNow.AddMinutes(-5));

        var suspended = await AccountResource.UpdateAsync(pathSid: created[2], status: AccountResource.StatusEnum.Suspended, client: client);
        Assert.Equal(AccountResource.StatusEnum.Suspended, suspended.Status);
        // A suspended account's own credentials stop working.
        var ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() =>
            AccountResource.FetchAsync(pathSid: created[2], client: vault.Twilio(created[2], fetched.AuthToken)));
        Assert.Equal(20003, ex.Code);
    }

    [Fact]
    public async Task A_suspension_made_by_another_instance_locks_the_account_out_here_too()
    {
        // Two instances over one data folder: B has just verified the subaccount's token (cached)
        // when A suspends it; B must stop accepting it once its cache time has passed.
        await using var a = await VaultServer.StartAsync();
        await using var b = await VaultServer.StartAsync(a.DataDir, a.AccountSid, a.AuthToken, keepData: true);
        b.Services.GetRequiredService<Core.AccountDirectory>().VerifiedFor = TimeSpan.FromMilliseconds(300);
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: a.Twilio());
        var asSubOnB = b.Twilio(sub.Sid, sub.AuthToken);
        Assert.Equal(sub.Sid, (await AccountResource.FetchAsync(pathSid: sub.Sid, client: asSubOnB)).Sid);

        await AccountResource.UpdateAsync(pathSid: sub.Sid, status: AccountResource.StatusEnum.Suspended, client: a.Twilio());
        var refused = await RefusedAsync(() => AccountResource.FetchAsync(pathSid: sub.Sid, client: asSubOnB),
            "B refuses the suspended subaccount's token once its cached check has expired");
        Assert.Equal(20003, refused.Code);
    }

    [Fact]
    public async Task Subaccount_credentials_work_and_api_keys_act_for_their_account()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        var key = await NewKeyResource.CreateAsync(pathAccountSid: sub.Sid, friendlyName: "ci key", client: vault.Twilio(sub.Sid, sub.AuthToken));
        Assert.Matches("^SK[0-9a-f]{32}$", key.Sid);
        Assert.False(string.IsNullOrEmpty(key.Secret));

        var viaKey = vault.Twilio(key.Sid, key.Secret, accountSid: sub.Sid);
        Assert.Equal("tenant", (await AccountResource.FetchAsync(pathSid: sub.Sid, client: viaKey)).FriendlyName);
        var keys = await KeyResource.ReadAsync(pathAccountSid: sub.Sid, client: viaKey);
        Assert.Equal(key.Sid, Assert.Single(keys).Sid);
        // The secret is shown once, at creation.
        using var http = vault.Http(sub.Sid, sub.AuthToken);
        var listed = await http.GetStringAsync($"/2010-04-01/Accounts/{sub.Sid}/Keys.json");
        Assert.DoesNotContain(key.Secret, listed, StringComparison.Ordinal);

        await KeyResource.DeleteAsync(pathAccountSid: sub.Sid, pathSid: key.Sid, client: vault.Twilio(sub.Sid, sub.AuthToken));
        // One instance forgets the key at once; through HAProxy the next request may reach an
        // instance that verified it earlier and hears of the deletion by the cluster signal — within
        // moments, far inside its 30 s cache time, which is what this bound proves.
        var refused = await RefusedAsync(() => AccountResource.FetchAsync(pathSid: sub.Sid, client: viaKey), "the deleted key is refused by every instance",
            TimeSpan.FromSeconds(5));
        Assert.Equal(20003, refused.Code);
    }

    [Theory]
    [InlineData("wrong-token")]
    [InlineData("no-header")]
    [InlineData("garbage-header")]
    [InlineData("unknown-account")]
    [InlineData("unknown-key")]
    public async Task Wrong_credentials_get_401_with_code_20003(string how)
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = vault.Http();
        var request = new HttpRequestMessage(HttpMethod.Get, $"/2010-04-01/Accounts/{vault.AccountSid}.json");
        string Basic(string u, string p) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{u}:{p}"));
        switch (how)
        {
            case "wrong-token": request.Headers.TryAddWithoutValidation("Authorization", Basic(vault.AccountSid, vault.AuthToken[..^1] + (vault.AuthToken[^1] == '0' ? "1" : "0"))); break;
            case "garbage-header": request.Headers.TryAddWithoutValidation("Authorization", "Basic !!!notbase64"); break;
            case "unknown-account": request.Headers.TryAddWithoutValidation("Authorization", Basic("AC" + new string('0', 32), vault.AuthToken)); break;
            case "unknown-key": request.Headers.TryAddWithoutValidation("Authorization", Basic("SK" + new string('0', 32), vault.AuthToken)); break;
        }
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Basic", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(20003, body.GetProperty("code").GetInt32());
        Assert.Equal(401, body.GetProperty("status").GetInt32());
        Assert.Equal("https://www.twilio.com/docs/errors/20003", body.GetProperty("more_info").GetString());
    }

    [Fact]
    public async Task Auth_tokens_and_key_secrets_are_not_stored_in_plaintext()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        var key = await NewKeyResource.CreateAsync(pathAccountSid: sub.Sid, friendlyName: "k", client: vault.Twilio());
        foreach (var secret in new[] { vault.AuthToken, sub.AuthToken, key.Secret })
        {
            foreach (var (path, content) in vault.DataFiles())
            {
                Assert.True(content.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"a credential is readable in {path}");
            }
            Assert.DoesNotContain(vault.Logs, line => line.Contains(secret, StringComparison.Ordinal));
        }
        var masterKey = Path.Combine(vault.DataDir, "master.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(masterKey));
    }

    [Fact]
    public async Task A_subaccount_cannot_create_subaccounts_or_change_its_own_status()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        var asSub = vault.Twilio(sub.Sid, sub.AuthToken);
        var ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() => AccountResource.CreateAsync(friendlyName: "grandchild", client: asSub));
        Assert.Equal(403, ex.Status);
        ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() => AccountResource.UpdateAsync(pathSid: sub.Sid, status: AccountResource.StatusEnum.Closed, client: asSub));
        Assert.Equal(403, ex.Status);
        var renamed = await AccountResource.UpdateAsync(pathSid: sub.Sid, friendlyName: "renamed", client: asSub);
        Assert.Equal("renamed", renamed.FriendlyName);
    }
}
