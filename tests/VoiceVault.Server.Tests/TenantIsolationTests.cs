using System.Net;
using System.Security.Cryptography;
using System.Text;
using Twilio.Rest.Accounts.V1.Credential;
using Twilio.Rest.Api.V2010;
using Twilio.Rest.Api.V2010.Account;
using NotificationResource = Twilio.Rest.Api.V2010.Account.NotificationResource;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Every endpoint × every kind of caller. The target is always subaccount A's resource; callers are
/// A itself, its parent, sibling B, A with a wrong token, and an API key of B. Outsiders must get
/// 404 or 401 and never a byte of A's data.
/// </summary>
public sealed class TenantIsolationTests : IAsyncLifetime
{
    private VaultServer _vault = null!;
    private AccountResource _a = null!;
    private AccountResource _b = null!;
    private NewKeyResource _keyOfB = null!;
    private string _keyOfA = "";
    private string _secretOfA = "";
    private string _recordingOfA = "";
    private string _callOfA = "";
    private string _notificationOfA = "";

    public async Task InitializeAsync()
    {
        _vault = await VaultServer.StartAsync();
        _a = await AccountResource.CreateAsync(friendlyName: "secret tenant A", client: _vault.Twilio());
        _b = await AccountResource.CreateAsync(friendlyName: "tenant B", client: _vault.Twilio());
        _keyOfB = await NewKeyResource.CreateAsync(pathAccountSid: _b.Sid, client: _vault.Twilio(_b.Sid, _b.AuthToken));
        using var rsa = RSA.Create(2048);
        _keyOfA = (await PublicKeyResource.CreateAsync(publicKey: rsa.ExportSubjectPublicKeyInfoPem(), friendlyName: "A's key", client: _vault.Twilio(_a.Sid, _a.AuthToken))).Sid;
        _secretOfA = (await NewKeyResource.CreateAsync(pathAccountSid: _a.Sid, friendlyName: "A's api key", client: _vault.Twilio(_a.Sid, _a.AuthToken))).Sid;

        // A recording of A's, and a notification: encryption on with a key that is then deleted,
        // so the upload falls back to A's other key with warning 16107.
        using var doomed = RSA.Create(2048);
        var doomedSid = await _vault.AddKeyAsync(doomed, _a.Sid);
        await _vault.SetEncryptionAsync(_a.Sid, enabled: true, doomedSid, caller: (_a.Sid, _a.AuthToken));
        await PublicKeyResource.DeleteAsync(pathSid: doomedSid, client: _vault.Twilio(_a.Sid, _a.AuthToken));
        _callOfA = Audio.CallSid();
        var (_, recording) = await _vault.UploadAsync(_a.Sid, _a.AuthToken, _callOfA, Audio.Wav(1));
        _recordingOfA = recording.GetProperty("sid").GetString()!;
        _notificationOfA = (await NotificationResource.ReadAsync(pathAccountSid: _a.Sid, client: _vault.Twilio(_a.Sid, _a.AuthToken))).Single().Sid;
        using (var http = _vault.Http(_a.Sid, _a.AuthToken))
        {
            (await http.PostAsync($"/v1/Accounts/{_a.Sid}/TwilioLink", new FormUrlEncodedContent(LinkOfA))).EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private static readonly Dictionary<string, string> LinkOfA = new()
    {
        ["TwilioAccountSid"] = "AC" + new string('a', 32),
        ["TwilioAuthToken"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
    };

    private (string User, string Password) Principal(string who) => who switch
    {
        "self" => (_a.Sid, _a.AuthToken),
        "parent" => (_vault.AccountSid, _vault.AuthToken),
        "sibling" => (_b.Sid, _b.AuthToken),
        "wrong-token" => (_a.Sid, _b.AuthToken),
        "other-api-key" => (_keyOfB.Sid, _keyOfB.Secret),
        _ => throw new ArgumentOutOfRangeException(nameof(who)),
    };

    public static TheoryData<string, string, string> Matrix()
    {
        var endpoints = new[]
        {
            "GET /2010-04-01/Accounts/{A}.json",
            "POST /2010-04-01/Accounts/{A}.json",
            "GET /2010-04-01/Accounts/{A}/Keys.json",
            "POST /2010-04-01/Accounts/{A}/Keys.json",
            "GET /2010-04-01/Accounts/{A}/Keys/{SK}.json",
            "DELETE /2010-04-01/Accounts/{A}/Keys/{SK}.json",
            "GET /v1/Credentials/PublicKeys/{CR}",
            "POST /v1/Credentials/PublicKeys/{CR}",
            "DELETE /v1/Credentials/PublicKeys/{CR}",
            "POST /v1/Credentials/PublicKeys?AccountSid={A}",
            "GET /2010-04-01/Accounts/{A}/RecordingEncryption.json",
            "POST /2010-04-01/Accounts/{A}/RecordingEncryption.json",
            "GET /2010-04-01/Accounts/{A}/Recordings.json",
            "GET /2010-04-01/Accounts/{A}/Recordings/{RE}.json",
            "GET /2010-04-01/Accounts/{A}/Recordings/{RE}",
            "GET /2010-04-01/Accounts/{A}/Recordings/{RE}.wav",
            "GET /2010-04-01/Accounts/{A}/Calls/{CA}/Recordings.json",
            "GET /2010-04-01/Accounts/{A}/Calls/{CA}/Recordings/{RE}.json",
            "DELETE /2010-04-01/Accounts/{A}/Recordings/{NEW-RE}.json",
            "GET /2010-04-01/Accounts/{A}/Notifications.json",
            "GET /2010-04-01/Accounts/{A}/Notifications/{NO}.json",
            "GET /v1/Accounts/{A}/TwilioLink",
            "POST /v1/Accounts/{A}/TwilioLink",
            "DELETE /v1/Accounts/{A}/TwilioLink",
        };
        var data = new TheoryData<string, string, string>();
        foreach (var endpoint in endpoints)
        {
            data.Add(endpoint, "self", "allowed");
            data.Add(endpoint, "parent", "allowed");
            data.Add(endpoint, "sibling", "hidden");
            data.Add(endpoint, "other-api-key", "hidden");
            data.Add(endpoint, "wrong-token", "401");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_caller_gets_the_right_answer_and_never_another_tenants_data(string endpoint, string who, string expected)
    {
        var (method, template) = (endpoint.Split(' ')[0], endpoint.Split(' ')[1]);
        var path = template.Replace("{A}", _a.Sid, StringComparison.Ordinal).Replace("{SK}", _secretOfA, StringComparison.Ordinal).Replace("{CR}", _keyOfA, StringComparison.Ordinal)
            .Replace("{RE}", _recordingOfA, StringComparison.Ordinal).Replace("{CA}", _callOfA, StringComparison.Ordinal).Replace("{NO}", _notificationOfA, StringComparison.Ordinal);
        if (path.Contains("{NEW-RE}", StringComparison.Ordinal))
        {
            var (_, fresh) = await _vault.UploadAsync(_a.Sid, _a.AuthToken, _callOfA, Audio.Wav(1));
            path = path.Replace("{NEW-RE}", fresh.GetProperty("sid").GetString(), StringComparison.Ordinal);
        }
        var (user, password) = Principal(who);
        using var http = _vault.Http(user, password);
        HttpContent? form = null;
        if (method == "POST")
        {
            var fields = new Dictionary<string, string> { ["FriendlyName"] = "renamed by " + who };
            if (path.Contains("AccountSid=", StringComparison.Ordinal))
            {
                using var rsa = RSA.Create(2048);
                fields["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem();
                fields["AccountSid"] = _a.Sid;
                path = path[..path.IndexOf('?', StringComparison.Ordinal)];
            }
            if (path.EndsWith("RecordingEncryption.json", StringComparison.Ordinal))
            {
                fields = new() { ["Enabled"] = "true", ["PublicKeySid"] = _keyOfA };
            }
            if (path.EndsWith("/TwilioLink", StringComparison.Ordinal))
            {
                fields = new(LinkOfA) { ["TwilioAccountSid"] = "AC" + new string('b', 32) };
            }
            form = new FormUrlEncodedContent(fields);
        }
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = form };
        var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        switch (expected)
        {
            case "allowed":
                Assert.True(response.IsSuccessStatusCode, $"{who} {endpoint}: {(int)response.StatusCode} {body}");
                break;
            case "hidden":
                Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized, $"{who} {endpoint}: {(int)response.StatusCode} {body}");
                break;
            default:
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                Assert.Contains("20003", body, StringComparison.Ordinal);
                break;
        }
        if (expected != "allowed")
        {
            // An outsider gets an error object and nothing else: no resource, no list, no media.
            var error = System.Text.Json.JsonDocument.Parse(body).RootElement;
            Assert.True(error.GetProperty("code").GetInt32() is 20404 or 20003, body);
            Assert.False(error.TryGetProperty("sid", out _) || error.TryGetProperty("recordings", out _) || error.TryGetProperty("notifications", out _), body);
            Assert.DoesNotContain("secret tenant A", body, StringComparison.Ordinal);
            Assert.DoesNotContain(_a.AuthToken, body, StringComparison.Ordinal);
            Assert.DoesNotContain("A's key", body, StringComparison.Ordinal);
            Assert.DoesNotContain(LinkOfA["TwilioAccountSid"], body, StringComparison.Ordinal);
        }
        if (expected != "allowed" && endpoint.Contains("TwilioLink", StringComparison.Ordinal))
        {
            // The outsider changed nothing: A's link is as A made it.
            using var asA = _vault.Http(_a.Sid, _a.AuthToken);
            Assert.Contains(LinkOfA["TwilioAccountSid"], await asA.GetStringAsync($"/v1/Accounts/{_a.Sid}/TwilioLink"), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("GET /2010-04-01/Accounts/{B}/Keys/{SK}.json")]
    [InlineData("DELETE /2010-04-01/Accounts/{B}/Keys/{SK}.json")]
    [InlineData("GET /2010-04-01/Accounts/{B}/Recordings/{RE}.json")]
    [InlineData("GET /2010-04-01/Accounts/{B}/Recordings/{RE}")]
    [InlineData("GET /2010-04-01/Accounts/{B}/Calls/{CA}/Recordings/{RE}.json")]
    [InlineData("GET /2010-04-01/Accounts/{B}/Notifications/{NO}.json")]
    public async Task Another_tenants_SID_under_ones_own_account_is_not_found(string endpoint)
    {
        var (method, template) = (endpoint.Split(' ')[0], endpoint.Split(' ')[1]);
        var path = template.Replace("{B}", _b.Sid, StringComparison.Ordinal).Replace("{SK}", _secretOfA, StringComparison.Ordinal)
            .Replace("{RE}", _recordingOfA, StringComparison.Ordinal).Replace("{CA}", _callOfA, StringComparison.Ordinal).Replace("{NO}", _notificationOfA, StringComparison.Ordinal);
        using var asB = _vault.Http(_b.Sid, _b.AuthToken);
        using var answer = await asB.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.DoesNotContain("A's api key", body, StringComparison.Ordinal);
        // A's key is still there for A.
        using var asA = _vault.Http(_a.Sid, _a.AuthToken);
        Assert.Equal(HttpStatusCode.OK, (await asA.GetAsync($"/2010-04-01/Accounts/{_a.Sid}/Keys/{_secretOfA}.json")).StatusCode);
    }

    [Fact]
    public async Task Lists_never_show_another_tenants_items()
    {
        using var asB = _vault.Http(_b.Sid, _b.AuthToken);
        var accounts = await asB.GetStringAsync("/2010-04-01/Accounts.json");
        Assert.DoesNotContain(_a.Sid, accounts, StringComparison.Ordinal);
        // B sees itself and nothing else: not A, not its parent.
        var listed = System.Text.Json.JsonDocument.Parse(accounts).RootElement.GetProperty("accounts").EnumerateArray().Select(a => a.GetProperty("sid").GetString()).ToList();
        Assert.Equal([_b.Sid], listed);
        var keys = await asB.GetStringAsync("/v1/Credentials/PublicKeys");
        Assert.DoesNotContain(_keyOfA, keys, StringComparison.Ordinal);
        var listedKeys = System.Text.Json.JsonDocument.Parse(keys).RootElement.GetProperty("credentials").EnumerateArray().Select(k => k.GetProperty("account_sid").GetString()).ToList();
        Assert.All(listedKeys, owner => Assert.Equal(_b.Sid, owner));
    }
}
