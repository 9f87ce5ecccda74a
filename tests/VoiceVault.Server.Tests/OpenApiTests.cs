using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using VoiceVault.Server.Api;

namespace VoiceVault.Server.Tests;

/// <summary>The OpenAPI document: every route described, and every described shape what the API really answers.</summary>
public sealed class OpenApiTests
{
    private static async Task<JsonNode> GetAsync(HttpClient http, string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await http.GetAsync(path);
        Assert.Equal(expected, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task<JsonNode> PostAsync(HttpClient http, string path, Dictionary<string, string> form, HttpStatusCode expected)
    {
        using var response = await http.PostAsync(path, new FormUrlEncodedContent(form));
        Assert.Equal(expected, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    // Exactly the fields the description lists, each of the type it gives.
    private static void AssertShape(string schema, JsonNode node)
    {
        if (OpenApiDescription.Lists.TryGetValue(schema, out var list))
        {
            var items = node[list.Items]!.AsArray();
            Assert.NotEmpty(items);
            foreach (var item in items)
            {
                AssertShape(list.Of, item!);
            }
            Assert.True(list.V1 ? node["meta"] is JsonObject : node["page_size"] is not null, $"{schema} has its envelope");
            return;
        }
        var fields = OpenApiDescription.Resources[schema].ToDictionary(f => f[..f.IndexOf(':', StringComparison.Ordinal)], f => f[(f.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        var actual = node.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(fields.Keys.Order(StringComparer.Ordinal).ToArray(), actual);
        foreach (var (name, type) in fields)
        {
            Assert.True(OpenApiDescription.Fits(type, node[name]), $"{schema}.{name} should be {type}, was {node[name]?.ToJsonString() ?? "null"}");
        }
    }

    [Fact]
    public async Task The_document_describes_every_route_with_its_responses_and_basic_auth()
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = new HttpClient { BaseAddress = vault.BaseUri };
        var document = await GetAsync(http, "/openapi/v1.json");

        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Where(o => o.Key is "get" or "post" or "put" or "delete").Select(o => (Key: $"{o.Key.ToUpperInvariant()} {p.Key}", Operation: o.Value!)))
            .Where(o => o.Key.Contains(" /2010-04-01/", StringComparison.Ordinal) || o.Key.Contains(" /v1/", StringComparison.Ordinal))
            .ToDictionary(o => o.Key, o => o.Operation);
        Assert.Equal(OpenApiDescription.DescribedOperations.Order(StringComparer.Ordinal), operations.Keys.Order(StringComparer.Ordinal));

        foreach (var (key, operation) in operations)
        {
            var responses = operation["responses"]!.AsObject();
            var success = responses.Single(r => r.Key.StartsWith('2'));
            if (success.Key != "204")
            {
                Assert.True(success.Value!["content"] is JsonObject { Count: > 0 }, $"{key} describes its response body");
            }
            Assert.Equal("#/components/schemas/Error", responses["401"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        }
        Assert.Equal("basic", document["components"]!["securitySchemes"]!["basic"]!["scheme"]!.GetValue<string>());
        var recording = document["components"]!["schemas"]!["Recording"]!["properties"]!.AsObject();
        Assert.True(recording.ContainsKey("encryption_details"));
        Assert.Contains("channels", document["components"]!["schemas"]!["Recording"]!["required"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Every_described_shape_is_what_the_api_answers()
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var ac = vault.AccountSid;

        AssertShape("Account", await GetAsync(http, $"/2010-04-01/Accounts/{ac}.json"));
        AssertShape("Account", await PostAsync(http, "/2010-04-01/Accounts.json", new() { ["FriendlyName"] = "sub" }, HttpStatusCode.Created));
        AssertShape("AccountList", await GetAsync(http, "/2010-04-01/Accounts.json"));

        var newKey = await PostAsync(http, $"/2010-04-01/Accounts/{ac}/Keys.json", new() { ["FriendlyName"] = "ci" }, HttpStatusCode.Created);
        AssertShape("NewApiKey", newKey);
        AssertShape("ApiKey", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Keys/{newKey["sid"]}.json"));
        AssertShape("ApiKeyList", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Keys.json"));

        using var rsa = RSA.Create(2048);
        var key = await PostAsync(http, "/v1/Credentials/PublicKeys", new() { ["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem(), ["FriendlyName"] = "k" }, HttpStatusCode.Created);
        AssertShape("PublicKey", key);
        AssertShape("PublicKey", await GetAsync(http, $"/v1/Credentials/PublicKeys/{key["sid"]}"));
        AssertShape("PublicKeyList", await GetAsync(http, "/v1/Credentials/PublicKeys"));

        AssertShape("RecordingEncryption", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/RecordingEncryption.json"));
        AssertShape("RecordingEncryption", await PostAsync(http, $"/2010-04-01/Accounts/{ac}/RecordingEncryption.json",
            new() { ["Enabled"] = "true", ["PublicKeySid"] = key["sid"]!.GetValue<string>() }, HttpStatusCode.OK));

        var callSid = Audio.CallSid();
        var (status, uploaded) = await vault.UploadAsync(ac, vault.AuthToken, callSid, Audio.Wav(1));
        Assert.Equal(HttpStatusCode.Created, status);
        AssertShape("Recording", JsonNode.Parse(uploaded.GetRawText())!);
        var recording = await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Recordings/{uploaded.GetProperty("sid").GetString()}.json");
        AssertShape("Recording", recording);
        Assert.IsType<JsonObject>(recording["encryption_details"]);

        // A failed recording (no usable key): the nullable fields and a notification.
        (await http.DeleteAsync($"/v1/Credentials/PublicKeys/{key["sid"]}")).EnsureSuccessStatusCode();
        var (_, failed) = await vault.UploadAsync(ac, vault.AuthToken, callSid, Audio.Wav(1));
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        AssertShape("Recording", JsonNode.Parse(failed.GetRawText())!);
        AssertShape("RecordingList", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Recordings.json"));
        AssertShape("CallRecordingList", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Calls/{callSid}/Recordings.json"));
        var notifications = await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Notifications.json");
        AssertShape("NotificationList", notifications);
        AssertShape("Notification", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Notifications/{notifications["notifications"]![0]!["sid"]}.json"));

        AssertShape("Error", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Recordings/RE{new string('0', 32)}.json", HttpStatusCode.NotFound));
        using var stranger = vault.Http(ac, "wrong");
        AssertShape("Error", await GetAsync(stranger, $"/2010-04-01/Accounts/{ac}.json", HttpStatusCode.Unauthorized));
    }
}
