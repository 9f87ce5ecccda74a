using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Twilio.Rest.Api.V2010;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Who listened (docs/audit.md): every read of a recording is an event in the chain of the account
/// that owns it, durable before the answer leaves; the chain links (checked by an independent
/// Python implementation of the document); a tenant reads only its own and its subaccounts'
/// chains; when the trail cannot record, nothing is sent.
/// </summary>
public sealed class AuditTrailTests
{
    internal static async Task<List<JsonElement>> EventsAsync(HttpClient http, string account, string query = "")
    {
        var events = new List<JsonElement>();
        string? next = $"/v1/Accounts/{account}/AuditEvents?PageSize=1000{query}";
        while (next is not null)
        {
            var page = JsonDocument.Parse(await http.GetStringAsync(next)).RootElement;
            events.AddRange(page.GetProperty("audit_events").EnumerateArray().Select(e => e.Clone()));
            next = page.GetProperty("meta").GetProperty("next_page_url").GetString();
        }
        return events;
    }

    /// <summary>
    /// The independent check (tests/…/interop/audit_verify.py) over the chain as served, oldest
    /// first — and a checkpoint and the signing keys, when given: its last hash.
    /// </summary>
    internal static async Task<string> VerifiedByPythonAsync(List<JsonElement> ascending, string? checkpoint = null, string? keys = null)
    {
        var dir = Directory.CreateTempSubdirectory("vv-audit").FullName;
        try
        {
            var file = Path.Combine(dir, "events.json");
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(ascending));
            List<string> args = [Path.Combine(AppContext.BaseDirectory, "interop", "audit_verify.py"), file];
            if (checkpoint is not null && keys is not null)
            {
                await File.WriteAllTextAsync(Path.Combine(dir, "checkpoint.json"), checkpoint);
                await File.WriteAllTextAsync(Path.Combine(dir, "keys.json"), keys);
                args.AddRange([Path.Combine(dir, "checkpoint.json"), Path.Combine(dir, "keys.json")]);
            }
            var python = Process.Start(new ProcessStartInfo(Environment.GetEnvironmentVariable("VOICEVAULT_PYTHON") ?? "python3", args)
                { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = await python.StandardOutput.ReadToEndAsync();
            var error = await python.StandardError.ReadToEndAsync();
            await python.WaitForExitAsync();
            Assert.True(python.ExitCode == 0, "audit_verify.py: " + error);
            return output.Trim().Split(' ')[1];
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Every_read_of_a_recording_is_in_its_owners_chain_with_who_read_it_and_the_chain_links()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        await vault.EnableEncryptionAsync(sub.Sid);
        var wav = Audio.Wav(2);
        var (_, created) = await vault.UploadAsync(sub.Sid, sub.AuthToken, Audio.CallSid(), wav);
        var recording = created.GetProperty("sid").GetString()!;

        // The parent reads the details and the whole media; the subaccount reads a range.
        using var asParent = vault.Http(vault.AccountSid, vault.AuthToken);
        (await asParent.GetAsync($"/2010-04-01/Accounts/{sub.Sid}/Recordings/{recording}.json")).EnsureSuccessStatusCode();
        var whole = await asParent.GetByteArrayAsync($"/2010-04-01/Accounts/{sub.Sid}/Recordings/{recording}");
        using var asSub = vault.Http(sub.Sid, sub.AuthToken);
        using (var ranged = new HttpRequestMessage(HttpMethod.Get, $"/2010-04-01/Accounts/{sub.Sid}/Recordings/{recording}"))
        {
            ranged.Headers.Range = new RangeHeaderValue(100, 199);
            Assert.Equal(HttpStatusCode.PartialContent, (await asSub.SendAsync(ranged)).StatusCode);
        }

        // In the subaccount's chain (it owns the recording), newest first, each with its reader.
        var events = (await EventsAsync(asSub, sub.Sid, $"&ResourceSid={recording}")).SkipLast(1).ToList();
        Assert.Equal(["recording.media.read", "recording.media.read", "recording.read"], events.Select(e => e.GetProperty("action").GetString()));
        Assert.All(events, e => Assert.Equal(sub.Sid, e.GetProperty("account_sid").GetString()));
        Assert.All(events, e => Assert.Equal(recording, e.GetProperty("resource_sid").GetString()));
        Assert.Equal([sub.Sid, vault.AccountSid, vault.AccountSid], events.Select(e => e.GetProperty("actor_sid").GetString()));
        Assert.All(events, e => Assert.Equal("account", e.GetProperty("actor_type").GetString()));
        Assert.All(events, e => Assert.Equal("127.0.0.1", e.GetProperty("source_ip").GetString()));
        var newest = events[0].GetProperty("sequence").GetInt64();
        Assert.Equal([newest, newest - 1, newest - 2], events.Select(e => e.GetProperty("sequence").GetInt64()));
        var rangeRead = events[0].GetProperty("details");
        Assert.Equal(100, rangeRead.GetProperty("offset").GetInt64());
        Assert.Equal(100, rangeRead.GetProperty("count").GetInt64());
        Assert.Equal(whole.Length, rangeRead.GetProperty("size").GetInt64());
        Assert.Equal(whole.Length, events[1].GetProperty("details").GetProperty("count").GetInt64());
        // Every field is served, nulls included.
        foreach (var field in new[] { "sid", "account_sid", "sequence", "date_created", "action", "actor_type", "actor_sid", "resource_sid", "source_ip",
            "request_id", "outcome", "details", "previous_hash", "hash", "url" })
        {
            Assert.True(events[0].TryGetProperty(field, out _), field);
        }
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", events[0].GetProperty("date_created").GetString());

        // The parent's own chain holds none of it.
        Assert.Empty(await EventsAsync(asParent, vault.AccountSid, $"&ResourceSid={recording}"));
        // An independent implementation of docs/audit.md agrees with every hash, from sequence 1's 64 zeros on.
        var ascending = await EventsAsync(asSub, sub.Sid, "&Order=asc");
        Assert.Equal(new string('0', 64), ascending[0].GetProperty("previous_hash").GetString());
        Assert.Equal(events[0].GetProperty("hash").GetString(), await VerifiedByPythonAsync(ascending));
    }

    [Fact]
    public async Task A_chain_is_read_by_its_account_and_its_parent_only_and_filters_hold_over_every_page()
    {
        await using var vault = await VaultServer.StartAsync();
        var first = await AccountResource.CreateAsync(friendlyName: "first", client: vault.Twilio());
        var second = await AccountResource.CreateAsync(friendlyName: "second", client: vault.Twilio());
        await vault.EnableEncryptionAsync(first.Sid);
        var recordings = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            var (_, created) = await vault.UploadAsync(first.Sid, first.AuthToken, Audio.CallSid(), Audio.Wav(1));
            recordings.Add(created.GetProperty("sid").GetString()!);
        }
        using var asFirst = vault.Http(first.Sid, first.AuthToken);
        using var asParent = vault.Http(vault.AccountSid, vault.AuthToken);
        for (int i = 0; i < 3; i++)
        {
            await asFirst.GetByteArrayAsync($"/2010-04-01/Accounts/{first.Sid}/Recordings/{recordings[0]}");
            await asParent.GetByteArrayAsync($"/2010-04-01/Accounts/{first.Sid}/Recordings/{recordings[1]}");
        }

        // Neither a sibling nor a subaccount reads another chain; the parent reads its subaccount's.
        using var asSecond = vault.Http(second.Sid, second.AuthToken);
        Assert.Equal(HttpStatusCode.NotFound, (await asSecond.GetAsync($"/v1/Accounts/{first.Sid}/AuditEvents")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await asFirst.GetAsync($"/v1/Accounts/{vault.AccountSid}/AuditEvents")).StatusCode);
        var someEvent = (await EventsAsync(asParent, first.Sid))[0].GetProperty("sid").GetString();
        Assert.Equal(HttpStatusCode.NotFound, (await asSecond.GetAsync($"/v1/Accounts/{first.Sid}/AuditEvents/{someEvent}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await asSecond.GetAsync($"/v1/Accounts/{second.Sid}/AuditEvents/{someEvent}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asParent.GetAsync($"/v1/Accounts/{first.Sid}/AuditEvents/{someEvent}")).StatusCode);

        // Each filter, over pages of one: the links keep it, so every page holds only what it selects.
        var byActor = await PagedAsync(asParent, first.Sid, $"&ActorSid={vault.AccountSid}&Action=recording.media.read");
        Assert.Equal(3, byActor.Count);
        Assert.All(byActor, e => Assert.Equal(vault.AccountSid, e.GetProperty("actor_sid").GetString()));
        var byResource = await PagedAsync(asFirst, first.Sid, $"&ResourceSid={recordings[0]}");
        Assert.Equal(4, byResource.Count);      // its creation and three reads
        Assert.All(byResource, e => Assert.Equal(recordings[0], e.GetProperty("resource_sid").GetString()));
        var ascending = await PagedAsync(asFirst, first.Sid, "&Order=asc&Action=recording.media.read");
        var sequences = ascending.Select(e => e.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(6, sequences.Count);
        Assert.Equal(sequences.Order(), sequences);
        Assert.Empty(await PagedAsync(asFirst, first.Sid, "&Action=recording.read"));
        Assert.Empty(await PagedAsync(asFirst, first.Sid, "&EndDate=2000-01-01"));
        Assert.Equal(6, (await PagedAsync(asFirst, first.Sid, "&StartDate=2000-01-01T00:00:00Z&Action=recording.media.read")).Count);
        // Bad filters are named.
        var bad = await asFirst.GetAsync($"/v1/Accounts/{first.Sid}/AuditEvents?Action=recording.listen");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("recording.listen", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await asFirst.GetAsync($"/v1/Accounts/{first.Sid}/AuditEvents?StartDate=yesterday")).StatusCode);
    }

    /// <summary>Every page of one event, following next_page_url.</summary>
    private static async Task<List<JsonElement>> PagedAsync(HttpClient http, string account, string query)
    {
        var events = new List<JsonElement>();
        string? next = $"/v1/Accounts/{account}/AuditEvents?PageSize=1{query}";
        while (next is not null)
        {
            var page = JsonDocument.Parse(await http.GetStringAsync(next)).RootElement;
            events.AddRange(page.GetProperty("audit_events").EnumerateArray().Select(e => e.Clone()));
            next = page.GetProperty("meta").GetProperty("next_page_url").GetString();
        }
        return events;
    }

    [Fact]
    public async Task When_the_trail_cannot_record_a_read_the_read_is_refused_and_no_media_byte_leaves()
    {
        await using var vault = await VaultServer.StartAsync();
        await vault.EnableEncryptionAsync();
        var (_, created) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var media = $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{created.GetProperty("sid").GetString()}";
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(media)).StatusCode);

        // Someone with database access takes the trail away: reads stop, with Twilio's error shape.
        await TestDatabase.ExecuteAsync(vault.DataDir, "ALTER TABLE audit_events RENAME TO audit_events_away");
        foreach (var path in new[] { media, media + ".json" })
        {
            using var refused = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("application/json", refused.Content.Headers.ContentType?.MediaType);
            var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(90003, error.GetProperty("code").GetInt32());
            Assert.Equal("docs/compatibility.md#our-error-codes (90003)", error.GetProperty("more_info").GetString());
        }

        // Back, and the chain goes on from where it stood: nothing was recorded for the refused reads, no gap.
        await TestDatabase.ExecuteAsync(vault.DataDir, "ALTER TABLE audit_events_away RENAME TO audit_events");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(media)).StatusCode);
        Assert.Equal(2, (await EventsAsync(http, vault.AccountSid, "&Action=recording.media.read")).Count);
        await VerifiedByPythonAsync(await EventsAsync(http, vault.AccountSid, "&Order=asc"));
    }

    [Fact]
    public async Task Thirty_two_downloads_at_once_on_one_account_make_one_unbroken_chain()
    {
        await using var vault = await VaultServer.StartAsync();
        await vault.EnableEncryptionAsync();
        var (_, created) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var media = $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{created.GetProperty("sid").GetString()}";
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            using var http = vault.Http(vault.AccountSid, vault.AuthToken);
            for (int i = 0; i < 4; i++)
            {
                await http.GetByteArrayAsync(media);
            }
        }));
        using var reader = vault.Http(vault.AccountSid, vault.AuthToken);
        var events = await EventsAsync(reader, vault.AccountSid, "&Order=asc");
        Assert.Equal(128, events.Count(e => e.GetProperty("action").GetString() == "recording.media.read"));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("sequence").GetInt64()));
        await VerifiedByPythonAsync(events);
    }

    [Fact]
    public async Task Changes_to_who_can_read_are_recorded_with_the_change_and_refused_with_it()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var key = await vault.AddKeyAsync(rsa, sub.Sid);
        await vault.SetEncryptionAsync(sub.Sid, enabled: true, key);
        var apiKey = await Twilio.Rest.Api.V2010.Account.NewKeyResource.CreateAsync(pathAccountSid: sub.Sid, friendlyName: "ci", client: vault.Twilio(sub.Sid, sub.AuthToken));
        var asKey = vault.Twilio(apiKey.Sid, apiKey.Secret, accountSid: sub.Sid);
        using (var http = vault.Http(apiKey.Sid, apiKey.Secret))
        {
            (await http.PostAsync($"/v1/Accounts/{sub.Sid}/TwilioLink", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["TwilioAccountSid"] = "AC" + new string('c', 32),
                ["TwilioAuthToken"] = new string('d', 32),
            }))).EnsureSuccessStatusCode();
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/Accounts/{sub.Sid}/TwilioLink")).StatusCode);
        }
        await AccountResource.UpdateAsync(pathSid: sub.Sid, friendlyName: "renamed", client: vault.Twilio());
        await Twilio.Rest.Api.V2010.Account.KeyResource.DeleteAsync(pathAccountSid: sub.Sid, pathSid: apiKey.Sid, client: vault.Twilio(sub.Sid, sub.AuthToken));
        await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.DeleteAsync(pathSid: key, client: vault.Twilio());

        using var asSub = vault.Http(sub.Sid, sub.AuthToken);
        var events = await EventsAsync(asSub, sub.Sid, "&Order=asc");
        Assert.Equal(["account.create", "public_key.create", "encryption_setting.update", "api_key.create", "twilio_link.update", "twilio_link.delete",
            "account.update", "api_key.delete", "public_key.delete"], events.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal([vault.AccountSid, vault.AccountSid, vault.AccountSid, sub.Sid, apiKey.Sid, apiKey.Sid, vault.AccountSid, sub.Sid, vault.AccountSid],
            events.Select(e => e.GetProperty("actor_sid").GetString()));
        Assert.Equal("api_key", events[4].GetProperty("actor_type").GetString());
        Assert.Equal(key, events[2].GetProperty("details").GetProperty("public_key_sid").GetString());
        Assert.True(events[2].GetProperty("details").GetProperty("enabled").GetBoolean());
        // What the events say of a Twilio link names the Twilio account, never its token.
        Assert.DoesNotContain(new string('d', 32), JsonSerializer.Serialize(events), StringComparison.Ordinal);
        // The main account's chain begins with its own creation by the vault.
        using var asParent = vault.Http(vault.AccountSid, vault.AuthToken);
        var own = await EventsAsync(asParent, vault.AccountSid, "&Order=asc");
        Assert.Equal(("account.create", "system", JsonValueKind.Null), (own[0].GetProperty("action").GetString(), own[0].GetProperty("actor_type").GetString(), own[0].GetProperty("actor_sid").ValueKind));
        await VerifiedByPythonAsync(events);

        // A change the trail cannot record does not happen: no key is made, and the caller is told.
        await TestDatabase.ExecuteAsync(vault.DataDir, "ALTER TABLE audit_events RENAME TO audit_events_away");
        using (var refused = await asSub.PostAsync("/v1/Credentials/PublicKeys", new FormUrlEncodedContent(new Dictionary<string, string> { ["PublicKey"] = rsa.ExportSubjectPublicKeyInfoPem() })))
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("90003", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await TestDatabase.ExecuteAsync(vault.DataDir, "ALTER TABLE audit_events_away RENAME TO audit_events");
        var keys = JsonDocument.Parse(await asSub.GetStringAsync("/v1/Credentials/PublicKeys")).RootElement.GetProperty("credentials");
        Assert.Equal(0, keys.GetArrayLength());
        Assert.Equal(events.Count, (await EventsAsync(asSub, sub.Sid)).Count);
    }

    [Fact]
    public async Task A_recordings_life_and_the_consoles_sessions_are_in_the_chain_and_a_delete_the_trail_cannot_record_deletes_nothing()
    {
        await using var vault = await VaultServer.StartAsync();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        using var other = System.Security.Cryptography.RSA.Create(2048);
        var key = await vault.AddKeyAsync(rsa);
        var otherKey = await vault.AddKeyAsync(other);
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, key);
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);

        // An upload, re-wrapped to another key.
        var uploadCall = Audio.CallSid();
        var (_, created) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, uploadCall, Audio.Wav(1));
        var uploaded = created.GetProperty("sid").GetString()!;
        using (var cek = VoiceVault.Crypto.ContentKey.Generate())
        {
            (await http.PostAsync($"/v1/Recordings/{uploaded}/EncryptionDetails", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["PublicKeySid"] = otherKey, ["EncryptedCek"] = Convert.ToBase64String(VoiceVault.Crypto.KeyWrap.Wrap(other, cek)),
            }))).EnsureSuccessStatusCode();
        }

        // A live call: started, paused, resumed and stopped through the API.
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync(new() { ["Record"] = "false" });
        var calls = $"/2010-04-01/Accounts/{vault.AccountSid}/Calls/{stream.CallSid}/Recordings";
        async Task<string> ControlAsync(string path, Dictionary<string, string> form)
        {
            using var answer = await http.PostAsync(path, new FormUrlEncodedContent(form));
            Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
            return JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("sid").GetString()!;
        }
        await stream.MediaAsync("inbound", 0, MediaStream.Frame());
        await VaultServer.WaitForFramesAsync([vault.BaseUri], 1);
        var live = await ControlAsync(calls + ".json", []);
        foreach (var status in new[] { "paused", "in-progress", "stopped" })
        {
            await stream.MediaAsync("inbound", 20, MediaStream.Frame());
            await ControlAsync($"{calls}/{live}.json", new() { ["Status"] = status });
        }

        // A console session, opened and closed.
        using var browser = vault.Http();
        using (var signIn = await browser.PostAsync("/console/session", new StringContent(JsonSerializer.Serialize(new { sid = vault.AccountSid, secret = vault.AuthToken }),
            System.Text.Encoding.UTF8, "application/json")))
        {
            signIn.EnsureSuccessStatusCode();
            var csrf = JsonDocument.Parse(await signIn.Content.ReadAsStringAsync()).RootElement.GetProperty("csrf_token").GetString();
            using var signOut = new HttpRequestMessage(HttpMethod.Delete, "/console/session");
            signOut.Headers.Add("X-CSRF-Token", csrf);
            Assert.Equal(HttpStatusCode.NoContent, (await browser.SendAsync(signOut)).StatusCode);
        }

        // A delete the trail cannot record deletes nothing: the recording and its media stay.
        var path = $"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{uploaded}";
        var media = await http.GetByteArrayAsync(path);
        await TestDatabase.ExecuteAsync(vault.DataDir, "ALTER TABLE audit_events RENAME TO audit_events_away");
        using (var refused = await http.DeleteAsync(path + ".json"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        await TestDatabase.ExecuteAsync(vault.DataDir, "ALTER TABLE audit_events_away RENAME TO audit_events");
        Assert.Equal(media, await http.GetByteArrayAsync(path));
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync(path + ".json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(path)).StatusCode);

        var events = await EventsAsync(http, vault.AccountSid, "&Order=asc");
        string[] Actions(string resource) => [.. events.Where(e => e.GetProperty("resource_sid").GetString() == resource).Select(e => e.GetProperty("action").GetString()!)];
        Assert.Equal(["recording.create", "recording.wrap.add", "recording.media.read", "recording.media.read", "recording.delete"], Actions(uploaded));
        Assert.Equal(["recording.create", "recording.control", "recording.control", "recording.control"], Actions(live));
        Assert.Equal(["console.sign_in", "console.sign_out"], Actions(vault.AccountSid).Where(a => a.StartsWith("console.", StringComparison.Ordinal)));
        JsonElement Details(string resource, string action, int nth = 0) =>
            events.Where(e => e.GetProperty("resource_sid").GetString() == resource && e.GetProperty("action").GetString() == action).ElementAt(nth).GetProperty("details");
        Assert.Equal((uploadCall, "processing"), (Details(uploaded, "recording.create").GetProperty("call_sid").GetString(), Details(uploaded, "recording.create").GetProperty("status").GetString()));
        Assert.Equal(otherKey, Details(uploaded, "recording.wrap.add").GetProperty("public_key_sid").GetString());
        Assert.Equal(("request", true), (Details(uploaded, "recording.delete").GetProperty("reason").GetString(), Details(uploaded, "recording.delete").GetProperty("had_media").GetBoolean()));
        Assert.Equal(["paused", "in-progress", "stopped"], Enumerable.Range(0, 3).Select(i => Details(live, "recording.control", i).GetProperty("status").GetString()));
        Assert.Equal(stream.CallSid, Details(live, "recording.create").GetProperty("call_sid").GetString());
        // Each by whom: the account's token for the API, the console for its sessions (the same session signed in and out).
        Assert.All(events.Where(e => e.GetProperty("action").GetString()!.StartsWith("recording.", StringComparison.Ordinal)),
            e => Assert.Equal(("account", vault.AccountSid), (e.GetProperty("actor_type").GetString(), e.GetProperty("actor_sid").GetString())));
        var sessions = events.Where(e => e.GetProperty("action").GetString()!.StartsWith("console.", StringComparison.Ordinal)).ToList();
        Assert.All(sessions, e => Assert.Equal("console", e.GetProperty("actor_type").GetString()));
        Assert.Equal(sessions[0].GetProperty("details").GetProperty("session").GetString(), sessions[1].GetProperty("details").GetProperty("session").GetString());
        await VerifiedByPythonAsync(events);
    }

    [Fact]
    public async Task Failed_authentications_are_counted_per_credential_and_address_into_the_chain_they_name_and_unknown_sids_into_none()
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Audit:FailedAuthenticationSeconds", "1"]);
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        var apiKey = await Twilio.Rest.Api.V2010.Account.NewKeyResource.CreateAsync(pathAccountSid: sub.Sid, friendlyName: "ci", client: vault.Twilio(sub.Sid, sub.AuthToken));
        var unknown = "AC" + new string('e', 32);
        async Task GuessAsync(string source, string user, int times)
        {
            for (int i = 0; i < times; i++)
            {
                using var guess = TestHttp.From(IPAddress.Parse(source), vault.BaseUri, user, $"wrong-{i}");
                Assert.Equal(HttpStatusCode.Unauthorized, (await guess.GetAsync($"/2010-04-01/Accounts/{user}/Recordings.json")).StatusCode);
            }
        }
        await GuessAsync("127.0.0.1", vault.AccountSid, 3);
        await GuessAsync("127.0.0.2", apiKey.Sid, 2);
        await GuessAsync("127.0.0.3", unknown, 4);
        using (var browser = TestHttp.From(IPAddress.Parse("127.0.0.4"), vault.BaseUri, "", ""))
        {
            var signIn = await browser.PostAsync("/console/session", new StringContent(JsonSerializer.Serialize(new { sid = vault.AccountSid, secret = "wrong" }),
                System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        }

        using var asParent = vault.Http(vault.AccountSid, vault.AuthToken);
        async Task<List<JsonElement>> FailedAsync(string account) => await EventsAsync(asParent, account, "&Action=auth.failed&Order=asc");
        static long Sum(IEnumerable<JsonElement> events) => events.Sum(e => e.GetProperty("details").GetProperty("count").GetInt64());
        await Eventually.TrueAsync(async () => Sum(await FailedAsync(vault.AccountSid)) == 4 && Sum(await FailedAsync(sub.Sid)) == 2,
            "the windows' counts are written", TimeSpan.FromSeconds(15));

        // Each in the chain of the account its credentials name, by address, as who they claimed to be.
        var main = await FailedAsync(vault.AccountSid);
        Assert.Equal(3, Sum(main.Where(e => e.GetProperty("source_ip").GetString() == "127.0.0.1")));
        Assert.Equal(1, Sum(main.Where(e => e.GetProperty("source_ip").GetString() == "127.0.0.4")));
        Assert.All(main, e => Assert.Equal(("account", vault.AccountSid, "denied"),
            (e.GetProperty("actor_type").GetString(), e.GetProperty("actor_sid").GetString(), e.GetProperty("outcome").GetString())));
        var ofKey = await FailedAsync(sub.Sid);
        Assert.All(ofKey, e => Assert.Equal(("api_key", apiKey.Sid, "127.0.0.2"),
            (e.GetProperty("actor_type").GetString(), e.GetProperty("actor_sid").GetString(), e.GetProperty("source_ip").GetString())));
        // One event per credential, address and window: never one per try.
        Assert.Equal(main.Count, main.Select(e => (e.GetProperty("source_ip").GetString(), e.GetProperty("details").GetProperty("from").GetString())).Distinct().Count());
        var window = main[0].GetProperty("details");
        Assert.Equal(TimeSpan.FromSeconds(1), DateTimeOffset.Parse(window.GetProperty("until").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse(window.GetProperty("from").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        // A SID that names nobody joins no chain, and leaves nothing behind.
        Assert.DoesNotContain(unknown, JsonSerializer.Serialize(main.Concat(ofKey)), StringComparison.Ordinal);
        await Eventually.TrueAsync(async () => await TestDatabase.ScalarAsync(vault.DataDir, "SELECT COUNT(*) FROM auth_failures") == "0", "the shared counts are taken");
        await VerifiedByPythonAsync(await EventsAsync(asParent, vault.AccountSid, "&Order=asc"));
    }
}
