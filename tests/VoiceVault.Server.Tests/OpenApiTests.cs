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

    // The schema the document gives for an operation's answer with this status.
    private static JsonNode ResponseSchema(JsonNode document, string operation, int status)
    {
        var (method, path) = (operation[..operation.IndexOf(' ', StringComparison.Ordinal)].ToLowerInvariant(), operation[(operation.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        var response = document["paths"]![path]![method]!["responses"]![status.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        Assert.True(response is not null, $"{operation} documents no {status} answer");
        return response!["content"]!["application/json"]!["schema"]!;
    }

    // An answer fits its documented schema: every field it has is described, every required field is
    // there, each value of its type (null only where the schema allows it), all the way down.
    private static void AssertAnswer(JsonNode document, string operation, JsonNode answer, int status = 200)
    {
        var problems = Problems(document, ResponseSchema(document, operation, status), answer, "$");
        Assert.True(problems.Count == 0, $"{operation} answered outside its schema: {string.Join("; ", problems)}");
    }

    private static List<string> Problems(JsonNode document, JsonNode schema, JsonNode? value, string at)
    {
        if (schema["$ref"] is { } reference)
        {
            schema = document["components"]!["schemas"]![reference.GetValue<string>().Split('/')[^1]]!;
        }
        if (schema["oneOf"] is JsonArray choices)
        {
            return choices.Any(choice => Problems(document, choice!, value, at).Count == 0) ? [] : [$"{at} fits none of its choices"];
        }
        var types = schema["type"] switch
        {
            JsonArray many => many.Select(t => t!.GetValue<string>()).ToList(),
            JsonValue one => [one.GetValue<string>()],
            _ => [],
        };
        if (value is null)
        {
            return types.Contains("null") ? [] : [$"{at} is null"];
        }
        var kind = value.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.Object => "object",
            System.Text.Json.JsonValueKind.Array => "array",
            System.Text.Json.JsonValueKind.String => "string",
            System.Text.Json.JsonValueKind.Number => "integer",
            _ => "boolean",
        };
        if (types.Count > 0 && !types.Contains(kind))
        {
            return [$"{at} is a {kind}, documented as {string.Join("|", types)}"];
        }
        var problems = new List<string>();
        if (kind == "object")
        {
            var properties = schema["properties"]?.AsObject() ?? [];
            foreach (var (name, field) in value.AsObject())
            {
                problems.AddRange(properties[name] is { } described ? Problems(document, described, field, $"{at}.{name}") : [$"{at}.{name} is not documented"]);
            }
            foreach (var required in schema["required"]?.AsArray() ?? [])
            {
                if (!value.AsObject().ContainsKey(required!.GetValue<string>()))
                {
                    problems.Add($"{at}.{required} is required but missing");
                }
            }
        }
        else if (kind == "array")
        {
            foreach (var item in value.AsArray())
            {
                problems.AddRange(Problems(document, schema["items"]!, item, $"{at}[]"));
            }
        }
        return problems;
    }

    [Fact]
    public async Task The_document_describes_every_route_with_its_responses_and_basic_auth()
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = vault.Http();
        var document = await GetAsync(http, "/openapi/v1.json");

        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Where(o => o.Key is "get" or "post" or "put" or "delete").Select(o => (Key: $"{o.Key.ToUpperInvariant()} {p.Key}", Operation: o.Value!)))
            .Where(o => o.Key.Contains(" /2010-04-01/", StringComparison.Ordinal) || o.Key.Contains(" /v1/", StringComparison.Ordinal))
            .ToDictionary(o => o.Key, o => o.Operation);
        // Every API route is in the document, and nothing else.
        var routes = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>(vault.Services).Endpoints.OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(r => r.RoutePattern.RawText!.StartsWith("/2010-04-01/", StringComparison.Ordinal) || r.RoutePattern.RawText!.StartsWith("/v1/", StringComparison.Ordinal))
            .Where(r => r.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>() is not null && !r.RoutePattern.RawText!.StartsWith("/v1/Ingest/MediaStream", StringComparison.Ordinal))
            .SelectMany(r => r.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {r.RoutePattern.RawText!.TrimEnd('/')}"));
        Assert.Equal(routes.Order(StringComparer.Ordinal), operations.Keys.Order(StringComparer.Ordinal));
        // Forms are Twilio's: urlencoded, never multipart.
        foreach (var (key, operation) in operations.Where(o => o.Value["requestBody"] is not null && !o.Key.StartsWith("PUT", StringComparison.Ordinal)))
        {
            Assert.Equal(["application/x-www-form-urlencoded"], operation["requestBody"]!["content"]!.AsObject().Select(c => c.Key));
        }

        foreach (var (key, operation) in operations)
        {
            var responses = operation["responses"]!.AsObject();
            var successes = responses.Where(r => r.Key.StartsWith('2')).ToList();
            Assert.NotEmpty(successes);
            foreach (var success in successes.Where(s => s.Key != "204"))
            {
                Assert.True(success.Value!["content"] is JsonObject { Count: > 0 }, $"{key} describes its {success.Key} response body");
            }
            Assert.Equal("#/components/schemas/Error", responses["401"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        }
        Assert.Equal("basic", document["components"]!["securitySchemes"]!["basic"]!["scheme"]!.GetValue<string>());
        var recording = document["components"]!["schemas"]!["Recording"]!["properties"]!.AsObject();
        Assert.True(recording.ContainsKey("encryption_details"));
        Assert.Contains("channels", document["components"]!["schemas"]!["Recording"]!["required"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Every_answer_fits_the_schema_the_document_gives_it()
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var document = await GetAsync(http, "/openapi/v1.json");
        var ac = vault.AccountSid;

        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}.json", await GetAsync(http, $"/2010-04-01/Accounts/{ac}.json"));
        AssertAnswer(document, "POST /2010-04-01/Accounts.json", await PostAsync(http, "/2010-04-01/Accounts.json", new() { ["FriendlyName"] = "sub" }, HttpStatusCode.Created), 201);
        AssertAnswer(document, "GET /2010-04-01/Accounts.json", await GetAsync(http, "/2010-04-01/Accounts.json"));

        var newKey = await PostAsync(http, $"/2010-04-01/Accounts/{ac}/Keys.json", new() { ["FriendlyName"] = "ci" }, HttpStatusCode.Created);
        AssertAnswer(document, "POST /2010-04-01/Accounts/{sid}/Keys.json", newKey, 201);
        Assert.NotNull(newKey["secret"]);
        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/Keys/{keySid}.json", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Keys/{newKey["sid"]}.json"));
        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/Keys.json", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Keys.json"));

        using var rsa = RSA.Create(2048);
        var key = await PostAsync(http, "/v1/Credentials/PublicKeys", new() { ["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem(), ["FriendlyName"] = "k" }, HttpStatusCode.Created);
        AssertAnswer(document, "POST /v1/Credentials/PublicKeys", key, 201);
        AssertAnswer(document, "GET /v1/Credentials/PublicKeys/{sid}", await GetAsync(http, $"/v1/Credentials/PublicKeys/{key["sid"]}"));
        AssertAnswer(document, "GET /v1/Credentials/PublicKeys", await GetAsync(http, "/v1/Credentials/PublicKeys"));

        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/RecordingEncryption.json", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/RecordingEncryption.json"));
        AssertAnswer(document, "POST /2010-04-01/Accounts/{sid}/RecordingEncryption.json", await PostAsync(http, $"/2010-04-01/Accounts/{ac}/RecordingEncryption.json",
            new() { ["Enabled"] = "true", ["PublicKeySid"] = key["sid"]!.GetValue<string>() }, HttpStatusCode.OK));

        var linkPath = $"/v1/Accounts/{ac}/TwilioLink";
        var link = new Dictionary<string, string> { ["TwilioAccountSid"] = "AC" + new string('1', 32), ["TwilioAuthToken"] = new string('a', 32) };
        AssertAnswer(document, "POST /v1/Accounts/{sid}/TwilioLink", await PostAsync(http, linkPath, link, HttpStatusCode.Created), 201);
        AssertAnswer(document, "POST /v1/Accounts/{sid}/TwilioLink", await PostAsync(http, linkPath, link, HttpStatusCode.OK));
        AssertAnswer(document, "GET /v1/Accounts/{sid}/TwilioLink", await GetAsync(http, linkPath));
        AssertAnswer(document, "POST /v1/Accounts/{sid}/TwilioLink", await PostAsync(http, linkPath, new() { ["TwilioAccountSid"] = "x" }, HttpStatusCode.BadRequest), 400);

        var callSid = Audio.CallSid();
        var (status, uploaded) = await vault.UploadAsync(ac, vault.AuthToken, callSid, Audio.Wav(1));
        Assert.Equal(HttpStatusCode.Created, status);
        AssertAnswer(document, "PUT /v1/Ingest/Calls/{callSid}/Recording", JsonNode.Parse(uploaded.GetRawText())!, 201);
        var recording = await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Recordings/{uploaded.GetProperty("sid").GetString()}.json");
        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/Recordings/{file}", recording);
        Assert.IsType<JsonObject>(recording["encryption_details"]);

        // A failed recording (no usable key): the nullable fields and a notification.
        (await http.DeleteAsync($"/v1/Credentials/PublicKeys/{key["sid"]}")).EnsureSuccessStatusCode();
        var (_, failed) = await vault.UploadAsync(ac, vault.AuthToken, callSid, Audio.Wav(1));
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        AssertAnswer(document, "PUT /v1/Ingest/Calls/{callSid}/Recording", JsonNode.Parse(failed.GetRawText())!, 201);
        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/Recordings.json", await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Recordings.json"));
        var byCall = await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Calls/{callSid}/Recordings.json");
        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json", byCall);
        Assert.Equal("both", byCall["recordings"]![0]!["track"]!.GetValue<string>());
        var notifications = await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Notifications.json");
        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/Notifications.json", notifications);
        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/Notifications/{notificationSid}.json",
            await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Notifications/{notifications["notifications"]![0]!["sid"]}.json"));

        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}/Recordings/{file}",
            await GetAsync(http, $"/2010-04-01/Accounts/{ac}/Recordings/RE{new string('0', 32)}.json", HttpStatusCode.NotFound), 404);
        using var stranger = vault.Http(ac, "wrong");
        AssertAnswer(document, "GET /2010-04-01/Accounts/{sid}.json", await GetAsync(stranger, $"/2010-04-01/Accounts/{ac}.json", HttpStatusCode.Unauthorized), 401);
    }

    [Fact]
    public void The_checker_refuses_what_the_schema_does_not_allow()
    {
        // The checker above is what makes the other test mean something: it must see each kind of mismatch.
        var document = JsonNode.Parse("""
            {"components":{"schemas":{"R":{"type":"object","required":["a"],"properties":{"a":{"type":"integer"},"b":{"type":["null","string"]}}}}},
             "paths":{"/r":{"get":{"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/R"}}}}}}}}}
            """)!;
        Assert.Empty(Problems(document, ResponseSchema(document, "GET /r", 200), JsonNode.Parse("""{"a":1,"b":null}"""), "$"));
        Assert.Contains("$.a is required but missing", Problems(document, ResponseSchema(document, "GET /r", 200), JsonNode.Parse("""{"b":"x"}"""), "$"));
        Assert.Contains("$.c is not documented", Problems(document, ResponseSchema(document, "GET /r", 200), JsonNode.Parse("""{"a":1,"c":2}"""), "$"));
        Assert.Contains("$.a is a string, documented as integer", Problems(document, ResponseSchema(document, "GET /r", 200), JsonNode.Parse("""{"a":"1"}"""), "$"));
        Assert.Contains("$.a is null", Problems(document, ResponseSchema(document, "GET /r", 200), JsonNode.Parse("""{"a":null}"""), "$"));
    }
}
