using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace VoiceVault.Server.Tests;

/// <summary>Every route needs credentials unless it is one of the few public ones, whoever adds the route.</summary>
public sealed class AuthenticationTests
{
    // The console's page and assets (the same document for every page path) and its sign-in.
    private static readonly string[] Public = ["/console/", "/console/assets/{**name}", "/console/session", "/console/{**page}", "/healthz", "/metrics", "/openapi/v1.json"];

    [Fact]
    public async Task Every_route_but_health_metrics_openapi_and_the_consoles_page_answers_401_without_credentials()
    {
        await using var vault = await VaultServer.StartAsync();
        var routes = vault.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var anonymous = routes.Where(r => r.Metadata.GetMetadata<IAllowAnonymous>() is not null).Select(r => r.RoutePattern.RawText).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Public.Order(StringComparer.Ordinal), anonymous);
        // Anonymous console routes: GET only (and POST for sign-in), never the signed-in ones.
        Assert.Equal(["POST"], routes.Single(r => r.RoutePattern.RawText == "/console/session" && r.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods);
        using var http = vault.Http();
        int checkedRoutes = 0;
        foreach (var route in routes.Where(r => r.Metadata.GetMetadata<IAllowAnonymous>() is null))
        {
            // Route values that look real, so nothing but the missing credentials can refuse the request.
            var path = System.Text.RegularExpressions.Regex.Replace(route.RoutePattern.RawText!, @"\{(\w+)\}", m => m.Groups[1].Value switch
            {
                "callSid" => Audio.CallSid(),
                "file" => "RE" + new string('0', 32) + ".json",
                _ => "AC" + new string('0', 32),
            });
            foreach (var method in route.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                using var response = await http.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {(int)response.StatusCode}");
                Assert.Contains("\"code\":20003", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                checkedRoutes++;
            }
        }
        Assert.True(checkedRoutes >= 25, $"only {checkedRoutes} routes were checked");
    }

    [Fact]
    public async Task Garbled_or_wrong_Basic_credentials_are_401_and_a_signature_does_not_open_ordinary_routes()
    {
        await using var vault = await VaultServer.StartAsync();
        using var http = vault.Http();
        foreach (var header in new[] { "Basic !!!not-base64", "Basic " + Convert.ToBase64String("no-colon"u8), "Bearer " + vault.AuthToken,
            "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{vault.AccountSid}:{vault.AuthToken}x")) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/2010-04-01/Accounts/{vault.AccountSid}.json");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(request)).StatusCode);
        }
        // A valid stream signature for this very URL is no credential anywhere but the stream endpoint.
        var url = $"/2010-04-01/Accounts/{vault.AccountSid}.json?AccountSid={vault.AccountSid}";
        using var signed = new HttpRequestMessage(HttpMethod.Get, url);
        signed.Headers.Add("X-Twilio-Signature", Core.TwilioSignature.Sign(vault.AuthToken, "ws://127.0.0.1:5080" + url, []));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(signed)).StatusCode);
    }

    // What an auditor key may call (docs/audit.md): the trail and metadata; its sessions' own routes.
    private static readonly string[] ForAuditors =
    [
        "GET /2010-04-01/Accounts.json", "GET /2010-04-01/Accounts/{sid}.json", "GET /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json",
        "GET /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}", "GET /2010-04-01/Accounts/{sid}/Recordings.json",
        "GET /2010-04-01/Accounts/{sid}/Recordings/{file}", "GET /console/session", "DELETE /console/session",
        "GET /v1/Accounts/{sid}/AuditCheckpoints/", "POST /v1/Accounts/{sid}/AuditCheckpoints/", "GET /v1/Accounts/{sid}/AuditCheckpoints/{checkpointSid}",
        "GET /v1/Accounts/{sid}/AuditEvents/", "GET /v1/Accounts/{sid}/AuditEvents/{eventSid}", "GET /v1/Audit/SigningKeys",
        "GET /v1/Recordings/{sid}/EncryptionDetails/", "POST /v1/Accounts/{sid}/AuditExports",
    ];

    [Fact]
    public async Task An_auditor_key_is_refused_every_route_but_the_trails_and_the_metadatas_whoever_adds_the_route()
    {
        await using var vault = await VaultServer.StartAsync();
        using var owner = vault.Http(vault.AccountSid, vault.AuthToken);
        using var made = await owner.PostAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Keys.json",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["FriendlyName"] = "auditor", ["Role"] = "auditor" }));
        var key = System.Text.Json.JsonDocument.Parse(await made.Content.ReadAsStringAsync()).RootElement;
        using var auditor = vault.Http(key.GetProperty("sid").GetString(), key.GetProperty("secret").GetString());
        // The console's routes take its session, not Basic: the auditor signs in there too.
        using var console = vault.Http();
        using (var signIn = await console.PostAsync("/console/session", new StringContent(System.Text.Json.JsonSerializer.Serialize(new
            {
                sid = key.GetProperty("sid").GetString(), secret = key.GetProperty("secret").GetString(),
            }), System.Text.Encoding.UTF8, "application/json")))
        {
            signIn.EnsureSuccessStatusCode();
            console.DefaultRequestHeaders.Add("X-CSRF-Token", System.Text.Json.JsonDocument.Parse(await signIn.Content.ReadAsStringAsync()).RootElement
                .GetProperty("csrf_token").GetString());
        }
        var routes = vault.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(r => r.Metadata.GetMetadata<IAllowAnonymous>() is null).ToList();
        var marked = routes.Where(r => r.Metadata.GetMetadata<Api.AuditorAccess.Allowed>() is not null)
            .SelectMany(r => (r.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => $"{m} {Normal(r.RoutePattern.RawText!)}"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(ForAuditors.Select(r => $"{r.Split(' ')[0]} {Normal(r.Split(' ')[1])}").Order(StringComparer.Ordinal), marked);
        int refused = 0;
        foreach (var route in routes.Where(r => r.Metadata.GetMetadata<Api.AuditorAccess.Allowed>() is null))
        {
            var path = System.Text.RegularExpressions.Regex.Replace(route.RoutePattern.RawText!, @"\{(\w+)\}", m => m.Groups[1].Value switch
            {
                "callSid" => Audio.CallSid(),
                "file" => "RE" + new string('0', 32) + ".json",
                _ => vault.AccountSid,
            });
            foreach (var method in route.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                var client = path.StartsWith("/console/", StringComparison.Ordinal) ? console : auditor;
                using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {(int)response.StatusCode} {body}");
                Assert.Contains("\"code\":20403", body, StringComparison.Ordinal);
                refused++;
            }
        }
        Assert.True(refused >= 20, $"only {refused} routes were checked");
        // The media of a recording is not metadata: refused on the route that also serves the metadata.
        foreach (var media in new[] { "", ".wav", ".mp3" })
        {
            using var response = await auditor.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/RE{new string('0', 32)}{media}");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        // And no Role but the two.
        using var bad = await owner.PostAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Keys.json",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["Role"] = "admin" }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("admin", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static string Normal(string pattern) => pattern.TrimEnd('/');
}
