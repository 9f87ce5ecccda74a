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
/// 404 or 401 and never a byte of A's data. One vault (one cluster, through HAProxy) serves the
/// whole matrix: a case that deletes works on a resource made for it, one that changes A's data
/// puts it back, so every case finds the world the fixture made.
/// </summary>
public sealed class TenantIsolationTests(TenantIsolationTests.World world) : IClassFixture<TenantIsolationTests.World>
{
    /// <summary>Two tenants under one parent, and A's resources of every kind.</summary>
    public sealed class World : IAsyncLifetime
    {
        public VaultServer Vault { get; private set; } = null!;
        public AccountResource A { get; private set; } = null!;
        public AccountResource B { get; private set; } = null!;
        public NewKeyResource KeyOfB { get; private set; } = null!;
        public string KeyOfA { get; private set; } = "";
        public string SecretOfA { get; private set; } = "";
        public string RecordingOfA { get; private set; } = "";
        public string CallOfA { get; private set; } = "";
        public string NotificationOfA { get; private set; } = "";
        public string EventOfA { get; private set; } = "";
        public (string Sid, string Secret) AuditorOfA { get; private set; }
        public (string Sid, string Secret) AuditorOfParent { get; private set; }

        public async Task InitializeAsync()
        {
            // Every wrong-token case is a failed authentication from this address: more than the
            // default 10 the address may try (RateLimitTests test those limits).
            Vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Limits:FailedAuthenticationsPerAddress", "1000", "--VoiceVault:Limits:FailedAuthenticationsPerAccount", "1000"]);
            A = await AccountResource.CreateAsync(friendlyName: NameOfA, client: Vault.Twilio());
            B = await AccountResource.CreateAsync(friendlyName: "tenant B", client: Vault.Twilio());
            KeyOfB = await NewKeyResource.CreateAsync(pathAccountSid: B.Sid, client: Vault.Twilio(B.Sid, B.AuthToken));
            KeyOfA = await PublicKeyOfAAsync();
            SecretOfA = await ApiKeyOfAAsync();

            // A recording of A's, and a notification: encryption on with a key that is then deleted,
            // so the upload falls back to A's other key with warning 16107.
            using var doomed = RSA.Create(2048);
            var doomedSid = await Vault.AddKeyAsync(doomed, A.Sid);
            await Vault.SetEncryptionAsync(A.Sid, enabled: true, doomedSid, caller: (A.Sid, A.AuthToken));
            await PublicKeyResource.DeleteAsync(pathSid: doomedSid, client: Vault.Twilio(A.Sid, A.AuthToken));
            CallOfA = Audio.CallSid();
            var (_, recording) = await Vault.UploadAsync(A.Sid, A.AuthToken, CallOfA, Audio.Wav(1));
            RecordingOfA = recording.GetProperty("sid").GetString()!;
            NotificationOfA = (await NotificationResource.ReadAsync(pathAccountSid: A.Sid, client: Vault.Twilio(A.Sid, A.AuthToken))).Single().Sid;
            await LinkAAsync();
            AuditorOfA = await AuditorKeyAsync(A.Sid, A.AuthToken);
            AuditorOfParent = await AuditorKeyAsync(Vault.AccountSid, Vault.AuthToken);
            using var asA = Vault.Http(A.Sid, A.AuthToken);
            EventOfA = System.Text.Json.JsonDocument.Parse(await asA.GetStringAsync($"/v1/Accounts/{A.Sid}/AuditEvents?PageSize=1")).RootElement
                .GetProperty("audit_events")[0].GetProperty("sid").GetString()!;
        }

        /// <summary>An auditor key of the account (Role=auditor, docs/audit.md).</summary>
        private async Task<(string Sid, string Secret)> AuditorKeyAsync(string account, string token)
        {
            using var http = Vault.Http(account, token);
            using var made = await http.PostAsync($"/2010-04-01/Accounts/{account}/Keys.json",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["FriendlyName"] = "auditor", ["Role"] = "auditor" }));
            var key = System.Text.Json.JsonDocument.Parse(await made.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("auditor", key.GetProperty("role").GetString());
            return (key.GetProperty("sid").GetString()!, key.GetProperty("secret").GetString()!);
        }

        public async Task DisposeAsync() => await Vault.DisposeAsync();

        /// <summary>A new public key credential of A's, named as A's keys are.</summary>
        public async Task<string> PublicKeyOfAAsync()
        {
            using var rsa = RSA.Create(2048);
            return (await PublicKeyResource.CreateAsync(publicKey: rsa.ExportSubjectPublicKeyInfoPem(), friendlyName: NameOfKey, client: Vault.Twilio(A.Sid, A.AuthToken))).Sid;
        }

        /// <summary>A new API key of A's.</summary>
        public async Task<string> ApiKeyOfAAsync() =>
            (await NewKeyResource.CreateAsync(pathAccountSid: A.Sid, friendlyName: "A's api key", client: Vault.Twilio(A.Sid, A.AuthToken))).Sid;

        /// <summary>A's Twilio link as the fixture made it (again).</summary>
        public async Task LinkAAsync()
        {
            using var http = Vault.Http(A.Sid, A.AuthToken);
            (await http.PostAsync($"/v1/Accounts/{A.Sid}/TwilioLink", new FormUrlEncodedContent(LinkOfA))).EnsureSuccessStatusCode();
        }

        /// <summary>A's name and its key's name as the fixture made them (again).</summary>
        public async Task RenameBackAsync()
        {
            await AccountResource.UpdateAsync(pathSid: A.Sid, friendlyName: NameOfA, client: Vault.Twilio());
            await PublicKeyResource.UpdateAsync(pathSid: KeyOfA, friendlyName: NameOfKey, client: Vault.Twilio(A.Sid, A.AuthToken));
        }
    }

    private const string NameOfA = "secret tenant A";
    private const string NameOfKey = "A's key";
    private static readonly Dictionary<string, string> LinkOfA = new()
    {
        ["TwilioAccountSid"] = "AC" + new string('a', 32),
        ["TwilioAuthToken"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
    };

    private (string User, string Password) Principal(string who) => who switch
    {
        "self" => (world.A.Sid, world.A.AuthToken),
        "parent" => (world.Vault.AccountSid, world.Vault.AuthToken),
        "sibling" => (world.B.Sid, world.B.AuthToken),
        "wrong-token" => (world.A.Sid, world.B.AuthToken),
        "other-api-key" => (world.KeyOfB.Sid, world.KeyOfB.Secret),
        "auditor" => world.AuditorOfA,
        "parent-auditor" => world.AuditorOfParent,
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
            "GET /v1/Accounts/{A}/AuditEvents",
            "GET /v1/Accounts/{A}/AuditEvents/{AE}",
            "GET /v1/Accounts/{A}/AuditCheckpoints",
            "POST /v1/Accounts/{A}/AuditCheckpoints",
            "GET /v1/Recordings/{RE}/EncryptionDetails",
        };
        // What an auditor key reads (docs/audit.md): the trail and metadata; never media, never a change.
        string[] forAuditors =
        [
            "GET /2010-04-01/Accounts/{A}.json", "GET /2010-04-01/Accounts/{A}/Recordings.json", "GET /2010-04-01/Accounts/{A}/Recordings/{RE}.json",
            "GET /2010-04-01/Accounts/{A}/Calls/{CA}/Recordings.json", "GET /2010-04-01/Accounts/{A}/Calls/{CA}/Recordings/{RE}.json",
            "GET /v1/Accounts/{A}/AuditEvents", "GET /v1/Accounts/{A}/AuditEvents/{AE}", "GET /v1/Accounts/{A}/AuditCheckpoints",
            "POST /v1/Accounts/{A}/AuditCheckpoints", "GET /v1/Recordings/{RE}/EncryptionDetails",
        ];
        var data = new TheoryData<string, string, string>();
        foreach (var endpoint in endpoints)
        {
            data.Add(endpoint, "self", "allowed");
            data.Add(endpoint, "parent", "allowed");
            data.Add(endpoint, "sibling", "hidden");
            data.Add(endpoint, "other-api-key", "hidden");
            data.Add(endpoint, "wrong-token", "401");
            data.Add(endpoint, "auditor", forAuditors.Contains(endpoint) ? "allowed" : "forbidden");
            data.Add(endpoint, "parent-auditor", forAuditors.Contains(endpoint) ? "allowed" : "forbidden");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_caller_gets_the_right_answer_and_never_another_tenants_data(string endpoint, string who, string expected)
    {
        var (method, template) = (endpoint.Split(' ')[0], endpoint.Split(' ')[1]);
        // What a DELETE targets is made for this case: the others keep finding the fixture's.
        var apiKey = method == "DELETE" && template.Contains("{SK}", StringComparison.Ordinal) ? await world.ApiKeyOfAAsync() : world.SecretOfA;
        var publicKey = method == "DELETE" && template.Contains("{CR}", StringComparison.Ordinal) ? await world.PublicKeyOfAAsync() : world.KeyOfA;
        var path = template.Replace("{A}", world.A.Sid, StringComparison.Ordinal).Replace("{SK}", apiKey, StringComparison.Ordinal).Replace("{CR}", publicKey, StringComparison.Ordinal)
            .Replace("{RE}", world.RecordingOfA, StringComparison.Ordinal).Replace("{CA}", world.CallOfA, StringComparison.Ordinal).Replace("{NO}", world.NotificationOfA, StringComparison.Ordinal)
            .Replace("{AE}", world.EventOfA, StringComparison.Ordinal);
        if (path.Contains("{NEW-RE}", StringComparison.Ordinal))
        {
            var (_, fresh) = await world.Vault.UploadAsync(world.A.Sid, world.A.AuthToken, world.CallOfA, Audio.Wav(1));
            path = path.Replace("{NEW-RE}", fresh.GetProperty("sid").GetString(), StringComparison.Ordinal);
        }
        var (user, password) = Principal(who);
        using var http = world.Vault.Http(user, password);
        HttpContent? form = null;
        if (method == "POST")
        {
            var fields = new Dictionary<string, string> { ["FriendlyName"] = "renamed by " + who };
            if (path.Contains("AccountSid=", StringComparison.Ordinal))
            {
                using var rsa = RSA.Create(2048);
                fields["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem();
                fields["AccountSid"] = world.A.Sid;
                path = path[..path.IndexOf('?', StringComparison.Ordinal)];
            }
            if (path.EndsWith("RecordingEncryption.json", StringComparison.Ordinal))
            {
                fields = new() { ["Enabled"] = "true", ["PublicKeySid"] = world.KeyOfA };
            }
            if (path.EndsWith("/TwilioLink", StringComparison.Ordinal))
            {
                fields = new(LinkOfA) { ["TwilioAccountSid"] = "AC" + new string('b', 32) };
            }
            form = new FormUrlEncodedContent(fields);
        }
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = form };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        // A change a caller was allowed to make is undone, so the next case finds A as it was.
        if (response.IsSuccessStatusCode && method != "GET")
        {
            await (endpoint.Contains("TwilioLink", StringComparison.Ordinal) ? world.LinkAAsync() : world.RenameBackAsync());
        }

        switch (expected)
        {
            case "allowed":
                Assert.True(response.IsSuccessStatusCode, $"{who} {endpoint}: {(int)response.StatusCode} {body}");
                break;
            case "forbidden":
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{who} {endpoint}: {(int)response.StatusCode} {body}");
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
            Assert.True(error.GetProperty("code").GetInt32() is 20404 or 20003 or 20403, body);
            Assert.False(error.TryGetProperty("sid", out _) || error.TryGetProperty("recordings", out _) || error.TryGetProperty("notifications", out _), body);
            Assert.DoesNotContain(NameOfA, body, StringComparison.Ordinal);
            Assert.DoesNotContain(world.A.AuthToken, body, StringComparison.Ordinal);
            Assert.DoesNotContain(NameOfKey, body, StringComparison.Ordinal);
            Assert.DoesNotContain(LinkOfA["TwilioAccountSid"], body, StringComparison.Ordinal);
        }
        if (expected != "allowed" && method == "DELETE" && (template.Contains("{SK}", StringComparison.Ordinal) || template.Contains("{CR}", StringComparison.Ordinal)))
        {
            // The outsider deleted nothing: A still has the key.
            using var asA = world.Vault.Http(world.A.Sid, world.A.AuthToken);
            var own = template.Contains("{SK}", StringComparison.Ordinal) ? $"/2010-04-01/Accounts/{world.A.Sid}/Keys/{apiKey}.json" : $"/v1/Credentials/PublicKeys/{publicKey}";
            Assert.Equal(HttpStatusCode.OK, (await asA.GetAsync(own)).StatusCode);
        }
        if (expected != "allowed" && endpoint.Contains("TwilioLink", StringComparison.Ordinal))
        {
            // The outsider changed nothing: A's link is as A made it.
            using var asA = world.Vault.Http(world.A.Sid, world.A.AuthToken);
            Assert.Contains(LinkOfA["TwilioAccountSid"], await asA.GetStringAsync($"/v1/Accounts/{world.A.Sid}/TwilioLink"), StringComparison.Ordinal);
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
        var path = template.Replace("{B}", world.B.Sid, StringComparison.Ordinal).Replace("{SK}", world.SecretOfA, StringComparison.Ordinal)
            .Replace("{RE}", world.RecordingOfA, StringComparison.Ordinal).Replace("{CA}", world.CallOfA, StringComparison.Ordinal).Replace("{NO}", world.NotificationOfA, StringComparison.Ordinal);
        using var asB = world.Vault.Http(world.B.Sid, world.B.AuthToken);
        using var answer = await asB.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.DoesNotContain("A's api key", body, StringComparison.Ordinal);
        // A's key is still there for A.
        using var asA = world.Vault.Http(world.A.Sid, world.A.AuthToken);
        Assert.Equal(HttpStatusCode.OK, (await asA.GetAsync($"/2010-04-01/Accounts/{world.A.Sid}/Keys/{world.SecretOfA}.json")).StatusCode);
    }

    [Fact]
    public async Task Lists_never_show_another_tenants_items()
    {
        using var asB = world.Vault.Http(world.B.Sid, world.B.AuthToken);
        var accounts = await asB.GetStringAsync("/2010-04-01/Accounts.json");
        Assert.DoesNotContain(world.A.Sid, accounts, StringComparison.Ordinal);
        // B sees itself and nothing else: not A, not its parent.
        var listed = System.Text.Json.JsonDocument.Parse(accounts).RootElement.GetProperty("accounts").EnumerateArray().Select(a => a.GetProperty("sid").GetString()).ToList();
        Assert.Equal([world.B.Sid], listed);
        var keys = await asB.GetStringAsync("/v1/Credentials/PublicKeys");
        Assert.DoesNotContain(world.KeyOfA, keys, StringComparison.Ordinal);
        var listedKeys = System.Text.Json.JsonDocument.Parse(keys).RootElement.GetProperty("credentials").EnumerateArray().Select(k => k.GetProperty("account_sid").GetString()).ToList();
        Assert.All(listedKeys, owner => Assert.Equal(world.B.Sid, owner));
    }
}
