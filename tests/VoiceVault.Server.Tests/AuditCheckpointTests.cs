using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace VoiceVault.Server.Tests;

/// <summary>
/// Signed checkpoints (docs/audit.md): a chain's head signed with the audit key (ECDSA P-256),
/// checked by an independent implementation (Python's cryptography); kept in the media store too;
/// made on demand and on a timer; signed with the new key after a rotation while the old one stays
/// listed; POSTed to the witness, which its own allow-list lets through — never the tenants' one.
/// </summary>
public sealed class AuditCheckpointTests
{
    private static async Task<JsonElement> PostCheckpointAsync(HttpClient http, string account)
    {
        using var made = await http.PostAsync($"/v1/Accounts/{account}/AuditCheckpoints", null);
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        return JsonDocument.Parse(await made.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task A_checkpoint_signs_the_chains_head_verifies_independently_and_is_kept_in_the_media_store()
    {
        await using var vault = await VaultServer.StartAsync();
        await vault.EnableEncryptionAsync(vault.AccountSid);
        await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);

        var checkpoint = await PostCheckpointAsync(http, vault.AccountSid);
        var events = await AuditTrailTests.EventsAsync(http, vault.AccountSid, "&Order=asc");
        Assert.Equal(events[^1].GetProperty("sequence").GetInt64(), checkpoint.GetProperty("sequence").GetInt64());
        Assert.Equal(events[^1].GetProperty("hash").GetString(), checkpoint.GetProperty("hash").GetString());
        Assert.StartsWith("CP", checkpoint.GetProperty("sid").GetString(), StringComparison.Ordinal);
        var keys = await http.GetStringAsync("/v1/Audit/SigningKeys");
        var key = Assert.Single(JsonDocument.Parse(keys).RootElement.GetProperty("signing_keys").EnumerateArray());
        Assert.Equal(("active", checkpoint.GetProperty("key_id").GetString()), (key.GetProperty("status").GetString(), key.GetProperty("key_id").GetString()));
        await AuditTrailTests.VerifiedByPythonAsync(events, checkpoint.GetRawText(), keys);

        // A signature over anything else does not hold: one changed field and Python says so.
        var forged = checkpoint.GetRawText().Replace(checkpoint.GetProperty("sid").GetString()!, "CP" + new string('0', 32), StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => AuditTrailTests.VerifiedByPythonAsync(events, forged, keys));

        // No new event, no new checkpoint: the same one again. Listed, fetched, and in the media store as served.
        Assert.Equal(checkpoint.GetProperty("sid").GetString(), (await PostCheckpointAsync(http, vault.AccountSid)).GetProperty("sid").GetString());
        var listed = JsonDocument.Parse(await http.GetStringAsync($"/v1/Accounts/{vault.AccountSid}/AuditCheckpoints")).RootElement.GetProperty("audit_checkpoints");
        Assert.Equal(checkpoint.GetRawText(), Assert.Single(listed.EnumerateArray()).GetRawText());
        Assert.Equal(checkpoint.GetRawText(), await http.GetStringAsync(checkpoint.GetProperty("url").GetString()));
        // Read through the store the vault runs on (files or S3).
        var media = vault.Services.GetRequiredService<Core.IMediaStore>();
        await using var copy = (await media.OpenReadAsync($"audit/{vault.AccountSid}/{checkpoint.GetProperty("sequence").GetInt64()}.json"))!;
        var stored = await new StreamReader(copy).ReadToEndAsync();
        static SortedDictionary<string, string> Fields(JsonElement e) => new(e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetRawText()), StringComparer.Ordinal);
        Assert.Equal(Fields(checkpoint), Fields(JsonDocument.Parse(stored).RootElement));
    }

    [Fact]
    public async Task Chains_with_new_events_are_checkpointed_on_the_timer_and_a_rotated_key_signs_the_next_while_the_old_stays_listed()
    {
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Audit:CheckpointSeconds", "1"]);
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        async Task<List<JsonElement>> CheckpointsAsync() =>
            [.. JsonDocument.Parse(await http.GetStringAsync($"/v1/Accounts/{vault.AccountSid}/AuditCheckpoints")).RootElement.GetProperty("audit_checkpoints")
                .EnumerateArray().Select(c => c.Clone())];
        await Eventually.TrueAsync(async () => (await CheckpointsAsync()).Count == 1, "the timer checkpoints the chain", TimeSpan.FromSeconds(15));
        var first = (await CheckpointsAsync())[0];

        var rotate = await TestProcess.ServerCommandAsync(["rotate-audit-key", "--VoiceVault:DataDir", vault.DataDir, .. TestDatabase.ArgsFor(vault.DataDir),
            .. TestMedia.ArgsFor(vault.DataDir)]);
        Assert.True(rotate.Exit == 0, rotate.Output);
        Assert.Contains($"{first.GetProperty("key_id").GetString()} is retired", rotate.Output, StringComparison.Ordinal);

        await vault.EnableEncryptionAsync(vault.AccountSid);      // a new event
        await Eventually.TrueAsync(async () => (await CheckpointsAsync()).Count == 2, "the timer checkpoints the new event", TimeSpan.FromSeconds(15));
        var second = (await CheckpointsAsync())[0];
        Assert.NotEqual(first.GetProperty("key_id").GetString(), second.GetProperty("key_id").GetString());
        var keys = await http.GetStringAsync("/v1/Audit/SigningKeys");
        Assert.Equal(["active", "retired"], JsonDocument.Parse(keys).RootElement.GetProperty("signing_keys").EnumerateArray().Select(k => k.GetProperty("status").GetString()));
        var events = await AuditTrailTests.EventsAsync(http, vault.AccountSid, "&Order=asc");
        await AuditTrailTests.VerifiedByPythonAsync(events, first.GetRawText(), keys);
        await AuditTrailTests.VerifiedByPythonAsync(events, second.GetRawText(), keys);
    }

    [Fact]
    public async Task The_witness_gets_each_checkpoint_signed_only_through_its_own_allow_list_and_is_retried_until_it_takes_it()
    {
        var received = new ConcurrentQueue<(string Body, string Signature, string KeyId)>();
        int calls = 0;
        await using var witness = await TestHttp.ServeAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            // The first try fails: the vault must come back.
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 500;
                return;
            }
            received.Enqueue((body, context.Request.Headers["X-VoiceVault-Signature"].ToString(), context.Request.Headers["X-VoiceVault-Key-Id"].ToString()));
            context.Response.StatusCode = 204;
        });

        // The tenants may call loopback (the tests' default); the witness's own list does not: refused.
        await using (var refused = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Audit:WitnessUrl", witness.Url + "/checkpoints"]))
        {
            using var http = refused.Http(refused.AccountSid, refused.AuthToken);
            await PostCheckpointAsync(http, refused.AccountSid);
            await Eventually.TrueAsync(async () => await TestDatabase.ScalarAsync(refused.DataDir, "SELECT witness_error FROM audit_checkpoints") is { Length: > 0 },
                "the refusal is recorded", TimeSpan.FromSeconds(15));
            var error = await TestDatabase.ScalarAsync(refused.DataDir, "SELECT witness_error FROM audit_checkpoints");
            Assert.Contains("VoiceVault:Audit:WitnessAllowedNetworks", error, StringComparison.Ordinal);
            Assert.Equal("pending", await TestDatabase.ScalarAsync(refused.DataDir, "SELECT witness_status FROM audit_checkpoints"));
            Assert.Equal(0, calls);
        }

        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Audit:WitnessUrl", witness.Url + "/checkpoints",
            "--VoiceVault:Audit:WitnessAllowedNetworks", "127.0.0.1"]);
        using var client = vault.Http(vault.AccountSid, vault.AuthToken);
        var checkpoint = await PostCheckpointAsync(client, vault.AccountSid);
        await Eventually.TrueAsync(() => !received.IsEmpty, "the witness takes the checkpoint after a failed try", TimeSpan.FromSeconds(30));
        Assert.True(received.TryDequeue(out var delivered));
        Assert.Equal(checkpoint.GetProperty("sid").GetString(), JsonDocument.Parse(delivered.Body).RootElement.GetProperty("sid").GetString());
        Assert.Equal(2, calls);
        // Signed with the audit key, over the body as sent.
        var keys = JsonDocument.Parse(await client.GetStringAsync("/v1/Audit/SigningKeys")).RootElement.GetProperty("signing_keys");
        using var key = ECDsa.Create();
        key.ImportFromPem(keys.EnumerateArray().Single(k => k.GetProperty("key_id").GetString() == delivered.KeyId).GetProperty("public_key").GetString());
        Assert.True(key.VerifyData(Encoding.UTF8.GetBytes(delivered.Body), Convert.FromBase64String(delivered.Signature), HashAlgorithmName.SHA256,
            DSASignatureFormat.Rfc3279DerSequence));
        Assert.False(key.VerifyData(Encoding.UTF8.GetBytes(delivered.Body + " "), Convert.FromBase64String(delivered.Signature), HashAlgorithmName.SHA256,
            DSASignatureFormat.Rfc3279DerSequence));
        await Eventually.TrueAsync(async () => await TestDatabase.ScalarAsync(vault.DataDir, "SELECT witness_status FROM audit_checkpoints") == "delivered",
            "the checkpoint is marked delivered");
    }

    /// <summary>The system clock moved by <see cref="Shift"/>: days pass in a test.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }

    [Fact]
    public async Task Pruning_removes_whole_prefixes_up_to_a_checkpoint_that_becomes_the_anchor_and_the_export_still_verifies()
    {
        var clock = new ShiftedClock();
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Audit:CheckpointSeconds", "1", "--VoiceVault:Audit:RetentionDays", "1"],
            services: s => s.AddSingleton<TimeProvider>(clock));
        await vault.EnableEncryptionAsync(vault.AccountSid);
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        async Task<List<JsonElement>> CheckpointsAsync() =>
            [.. JsonDocument.Parse(await http.GetStringAsync($"/v1/Accounts/{vault.AccountSid}/AuditCheckpoints")).RootElement.GetProperty("audit_checkpoints")
                .EnumerateArray().Select(c => c.Clone())];
        var before = await AuditTrailTests.EventsAsync(http, vault.AccountSid, "&Order=asc");
        long covered = before[^1].GetProperty("sequence").GetInt64();
        await Eventually.TrueAsync(async () => (await CheckpointsAsync()).Any(c => c.GetProperty("sequence").GetInt64() == covered),
            "the timer checkpoints the chain", TimeSpan.FromSeconds(15));

        // Two days on, new events: the old ones are past RetentionDays, up to the checkpoint that signs them.
        clock.Shift = TimeSpan.FromDays(2);
        await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        await Eventually.TrueAsync(async () => (await AuditTrailTests.EventsAsync(http, vault.AccountSid, "&Order=asc"))[0].GetProperty("sequence").GetInt64() == covered + 1,
            "the prefix is pruned", TimeSpan.FromSeconds(15));
        var after = await AuditTrailTests.EventsAsync(http, vault.AccountSid, "&Order=asc");
        var prune = Assert.Single(after, e => e.GetProperty("action").GetString() == "audit.prune");
        Assert.Equal(("system", covered), (prune.GetProperty("actor_type").GetString(), prune.GetProperty("details").GetProperty("up_to_sequence").GetInt64()));
        Assert.Equal(before.Count, prune.GetProperty("details").GetProperty("events").GetInt64());
        // Nothing newer went; the anchor checkpoint stays listed.
        Assert.Contains(covered, (await CheckpointsAsync()).Select(c => c.GetProperty("sequence").GetInt64()));
        Assert.Equal(after.Count, after[^1].GetProperty("sequence").GetInt64() - covered);

        // An export starts at the anchor, and verifies from it, not from 64 zeros; so does Python.
        var dir = Directory.CreateTempSubdirectory("vv-audit-prune-").FullName;
        try
        {
            var file = Path.Combine(dir, "events.jsonl");
            var env = TestProcess.TwilioEnvironment(vault.AccountSid, vault.AuthToken);
            var export = await TestProcess.ToolkitAsync(env, "audit", "export", "--account", vault.AccountSid, "--out", file, "--base-url", vault.BaseUri.ToString());
            Assert.True(export.Exit == 0, export.Stderr);
            var header = JsonDocument.Parse(File.ReadLines(file).First()).RootElement;
            Assert.Equal(covered, header.GetProperty("anchor").GetProperty("sequence").GetInt64());
            var verified = await TestProcess.ToolkitAsync(env, "audit", "verify", file);
            Assert.True(verified.Exit == 0, verified.Stderr);
            Assert.Contains($"sequences {covered + 1}–", verified.Stdout, StringComparison.Ordinal);
            var python = await TestProcess.RunAsync(Environment.GetEnvironmentVariable("VOICEVAULT_PYTHON") ?? "python3",
                [Path.Combine(AppContext.BaseDirectory, "interop", "audit_verify.py"), file]);
            Assert.True(python.Exit == 0, python.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Instances_racing_to_make_the_first_signing_key_end_with_one_active_key()
    {
        await using var vault = await VaultServer.StartAsync();
        var s = vault.Services;
        // Sixteen instances' signers at once, each on its own connection (on PostgreSQL, a real race
        // for the one-active-key index; on SQLite, one writer at a time), a few times over.
        var signers = Enumerable.Range(0, 16).Select(_ => new Core.AuditSigner(s.GetRequiredService<Core.IAuditStore>(), s.GetRequiredService<Core.IVaultDatabase>(),
            s.GetRequiredService<Core.MasterKey>(), TimeProvider.System)).ToList();
        for (int round = 0; round < 5; round++)
        {
            await TestDatabase.ExecuteAsync(vault.DataDir, "DELETE FROM audit_signing_keys");
            using var go = new ManualResetEventSlim();
            var racing = signers.Select(signer => Task.Run(async () =>
            {
                go.Wait();
                await signer.EnsureAsync();
            })).ToList();
            go.Set();
            await Task.WhenAll(racing);
        }
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var keys = JsonDocument.Parse(await http.GetStringAsync("/v1/Audit/SigningKeys")).RootElement.GetProperty("signing_keys");
        Assert.Equal(["active"], keys.EnumerateArray().Select(k => k.GetProperty("status").GetString()));
        await PostCheckpointAsync(http, vault.AccountSid);
    }
}
