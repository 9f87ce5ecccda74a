using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Twilio.Rest.Api.V2010;

namespace VoiceVault.Server.Tests;

/// <summary>
/// <c>voicevault audit export</c> and <c>audit verify</c> (docs/audit.md) on a real trail: an
/// export verifies, the vault records that it left, an interrupted export resumes; and every kind
/// of damage — to the file, or inside the database before a fresh export, as an attacker with
/// database access would do it — is caught and named with its first broken sequence.
/// </summary>
public sealed class AuditExportTests
{
    private sealed record Trail(VaultServer Vault, string Account, string Token, string Export, string Dir) : IAsyncDisposable
    {
        public Dictionary<string, string?> Env => TestProcess.TwilioEnvironment(Account, Token);

        public async ValueTask DisposeAsync()
        {
            await Vault.DisposeAsync();
            Directory.Delete(Dir, recursive: true);
        }
    }

    /// <summary>A subaccount with a few dozen events, a checkpoint in the middle, exported.</summary>
    private static async Task<Trail> TrailAsync()
    {
        var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "exported", client: vault.Twilio());
        await vault.EnableEncryptionAsync(sub.Sid);
        using var http = vault.Http(sub.Sid, sub.AuthToken);
        var (_, created) = await vault.UploadAsync(sub.Sid, sub.AuthToken, Audio.CallSid(), Audio.Wav(1));
        var path = $"/2010-04-01/Accounts/{sub.Sid}/Recordings/{created.GetProperty("sid").GetString()}";
        for (int i = 0; i < 10; i++)
        {
            await http.GetByteArrayAsync(path);
        }
        (await http.PostAsync($"/v1/Accounts/{sub.Sid}/AuditCheckpoints", null)).EnsureSuccessStatusCode();
        for (int i = 0; i < 10; i++)
        {
            await http.GetStringAsync(path + ".json");
        }
        var dir = Directory.CreateTempSubdirectory("vv-audit-export-").FullName;
        var trail = new Trail(vault, sub.Sid, sub.AuthToken, Path.Combine(dir, "events.jsonl"), dir);
        var export = await TestProcess.ToolkitAsync(trail.Env, "audit", "export", "--account", sub.Sid, "--out", trail.Export, "--base-url", vault.BaseUri.ToString());
        Assert.True(export.Exit == 0, export.Stderr);
        return trail;
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> VerifyAsync(Trail trail, string file, params string[] more) =>
        await TestProcess.ToolkitAsync(trail.Env, ["audit", "verify", file, .. more]);

    private static async Task<string> DamagedAsync(Trail trail, string name, Func<List<string>, List<string>> damage)
    {
        var lines = (await File.ReadAllLinesAsync(trail.Export)).ToList();
        var file = Path.Combine(trail.Dir, name + ".jsonl");
        await File.WriteAllLinesAsync(file, damage(lines));
        return file;
    }

    private static int LineOf(List<string> lines, long sequence) =>
        lines.FindIndex(l => JsonNode.Parse(l)!["sid"]?.GetValue<string>().StartsWith("AE", StringComparison.Ordinal) == true && JsonNode.Parse(l)!["sequence"]!.GetValue<long>() == sequence);

    private static int CheckpointLine(List<string> lines) =>
        lines.FindIndex(l => JsonNode.Parse(l)!["sid"]?.GetValue<string>().StartsWith("CP", StringComparison.Ordinal) == true);

    [Fact]
    public async Task An_export_verifies_against_the_vaults_keys_and_by_python_and_the_vault_records_that_it_left()
    {
        await using var trail = await TrailAsync();
        var keys = Path.Combine(trail.Dir, "keys.json");
        using var http = trail.Vault.Http(trail.Account, trail.Token);
        await File.WriteAllTextAsync(keys, await http.GetStringAsync("/v1/Audit/SigningKeys"));
        var verified = await VerifyAsync(trail, trail.Export, "--signing-keys", keys);
        Assert.True(verified.Exit == 0, verified.Stderr);
        Assert.StartsWith("OK: ", verified.Stdout, StringComparison.Ordinal);
        var json = JsonDocument.Parse((await VerifyAsync(trail, trail.Export, "--json")).Stdout).RootElement;
        Assert.True(json.GetProperty("ok").GetBoolean());
        var lines = await File.ReadAllLinesAsync(trail.Export);
        var header = JsonNode.Parse(lines[0])!;
        Assert.Equal(header["checkpoint"]!["sequence"]!.GetValue<long>(), json.GetProperty("last_sequence").GetInt64());
        // The middle checkpoint is filed after the event it signs, the export's own at the end.
        Assert.Equal(2, lines.Skip(1).Count(l => l.Contains("\"sid\":\"CP", StringComparison.Ordinal)));

        // The vault recorded the export, after it, naming the checkpoint it stopped at.
        var exported = (await AuditTrailTests.EventsAsync(http, trail.Account, "&Action=audit.export")).Single();
        Assert.Equal(header["checkpoint"]!["sid"]!.GetValue<string>(), exported.GetProperty("resource_sid").GetString());
        Assert.True(exported.GetProperty("sequence").GetInt64() > header["checkpoint"]!["sequence"]!.GetValue<long>());

        // The report of an export holds the tenant rule, and names a checkpoint of the chain.
        var sibling = await AccountResource.CreateAsync(friendlyName: "sibling", client: trail.Vault.Twilio());
        using var asSibling = trail.Vault.Http(sibling.Sid, sibling.AuthToken);
        var report = new Dictionary<string, string> { ["CheckpointSid"] = header["checkpoint"]!["sid"]!.GetValue<string>() };
        Assert.Equal(HttpStatusCode.NotFound, (await asSibling.PostAsync($"/v1/Accounts/{trail.Account}/AuditExports", new FormUrlEncodedContent(report))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await asSibling.PostAsync($"/v1/Accounts/{sibling.Sid}/AuditExports", new FormUrlEncodedContent(report))).StatusCode);

        // The independent implementation agrees with every hash and the export's checkpoint.
        var events = lines.Skip(1).Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("sid").GetString()!.StartsWith("AE", StringComparison.Ordinal)).ToList();
        await AuditTrailTests.VerifiedByPythonAsync(events, header["checkpoint"]!.ToJsonString(), await File.ReadAllTextAsync(keys));
    }

    [Fact]
    public async Task Every_kind_of_damage_to_an_export_is_caught_and_named_with_its_first_broken_sequence()
    {
        await using var trail = await TrailAsync();
        await using var other = await TrailAsync();
        var cases = new List<(string Name, Func<List<string>, List<string>> Damage, string Expected)>
        {
            ("changed", lines =>
            {
                int i = LineOf(lines, 5);
                var e = JsonNode.Parse(lines[i])!;
                e["source_ip"] = "203.0.113.9";
                lines[i] = e.ToJsonString();
                return lines;
            }, "sequence 5: changed"),
            ("missing", lines =>
            {
                lines.RemoveAt(LineOf(lines, 7));
                return lines;
            }, "sequence 7: missing"),
            ("reordered", lines =>
            {
                int i = LineOf(lines, 8), j = LineOf(lines, 9);
                (lines[i], lines[j]) = (lines[j], lines[i]);
                return lines;
            }, "sequence 8: reordered"),
            ("tail-after-checkpoint", lines => lines[..(CheckpointLine(lines) + 1)], "truncated"),
            ("tail-before-checkpoint", lines => lines[..(CheckpointLine(lines) - 3)], "truncated"),
            ("forged-checkpoint", lines =>
            {
                // A checkpoint signed with a key of the forger's, named as the vault's key.
                int i = CheckpointLine(lines);
                var c = JsonNode.Parse(lines[i])!;
                using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                c["hash"] = new string('f', 64);
                var signed = VoiceVault.Crypto.Jcs.Element(JsonDocument.Parse(c.ToJsonString()).RootElement, n => n is "signature" or "url");
                c["signature"] = Convert.ToBase64String(forger.SignData(Encoding.UTF8.GetBytes(signed), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
                lines[i] = c.ToJsonString();
                return lines;
            }, "bad signature"),
            ("replayed", lines =>
            {
                // Another account's event in the place of one of this chain's.
                var theirs = File.ReadAllLines(other.Export).ToList();
                lines[LineOf(lines, 6)] = theirs[LineOf(theirs, 6)];
                return lines;
            }, "sequence 6: changed"),
        };
        foreach (var (name, damage, expected) in cases)
        {
            var file = await DamagedAsync(trail, name, damage);
            var result = await VerifyAsync(trail, file);
            Assert.True(result.Exit == 3, $"{name}: exit {result.Exit}; {result.Stdout} {result.Stderr}");
            Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        }
        // The truncations name where the events stop: after the middle checkpoint, or before it.
        var lines = (await File.ReadAllLinesAsync(trail.Export)).ToList();
        long signedAt = JsonNode.Parse(lines[CheckpointLine(lines)])!["sequence"]!.GetValue<long>();
        Assert.Contains($"sequence {signedAt + 1}: truncated", (await VerifyAsync(trail, Path.Combine(trail.Dir, "tail-after-checkpoint.jsonl"))).Stderr, StringComparison.Ordinal);
        Assert.Contains($"sequence {signedAt - 2}: truncated", (await VerifyAsync(trail, Path.Combine(trail.Dir, "tail-before-checkpoint.jsonl"))).Stderr, StringComparison.Ordinal);
        // A forged key in the export's own key list does not help against the vault's keys.
        var keys = Path.Combine(trail.Dir, "keys.json");
        using var http = trail.Vault.Http(trail.Account, trail.Token);
        await File.WriteAllTextAsync(keys, await http.GetStringAsync("/v1/Audit/SigningKeys"));
        var forgedKeys = await DamagedAsync(trail, "forged-keys", lines =>
        {
            using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var id = Convert.ToHexStringLower(SHA256.HashData(forger.ExportSubjectPublicKeyInfo()))[..16];
            var header = JsonNode.Parse(lines[0])!;
            var c = header["checkpoint"]!;
            c["key_id"] = id;
            var signed = VoiceVault.Crypto.Jcs.Element(JsonDocument.Parse(c.ToJsonString()).RootElement, n => n is "signature" or "url");
            c["signature"] = Convert.ToBase64String(forger.SignData(Encoding.UTF8.GetBytes(signed), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
            header["signing_keys"]!.AsArray().Add(new JsonObject { ["key_id"] = id, ["public_key"] = forger.ExportSubjectPublicKeyInfoPem() });
            lines[0] = header.ToJsonString();
            return lines;
        });
        Assert.Equal(0, (await VerifyAsync(trail, forgedKeys)).Exit);      // the file vouches for itself…
        var pinned = await VerifyAsync(trail, forgedKeys, "--signing-keys", keys);
        Assert.Equal(3, pinned.Exit);                                        // …the vault's keys do not
        Assert.Contains("bad signature", pinned.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Damage_done_inside_the_database_is_caught_by_verifying_a_fresh_export()
    {
        await using var trail = await TrailAsync();
        async Task<string> ReexportAsync(string name)
        {
            var file = Path.Combine(trail.Dir, name + ".jsonl");
            var export = await TestProcess.ToolkitAsync(trail.Env, "audit", "export", "--account", trail.Account, "--out", file, "--base-url", trail.Vault.BaseUri.ToString());
            Assert.True(export.Exit == 0, export.Stderr);
            return file;
        }
        // An attacker with the database deletes one event: the fresh export misses it.
        await TestDatabase.ExecuteAsync(trail.Vault.DataDir, $"DELETE FROM audit_events WHERE account_sid = '{trail.Account}' AND sequence = 9");
        var missing = await VerifyAsync(trail, await ReexportAsync("db-missing"));
        Assert.Equal(3, missing.Exit);
        Assert.Contains("sequence 9: missing", missing.Stderr, StringComparison.Ordinal);

        // …edits one in place: changed, and it is the first broken sequence named.
        await TestDatabase.ExecuteAsync(trail.Vault.DataDir, $"UPDATE audit_events SET actor_sid = 'AC{new string('9', 32)}' WHERE account_sid = '{trail.Account}' AND sequence = 4");
        var changed = await VerifyAsync(trail, await ReexportAsync("db-changed"));
        Assert.Equal(3, changed.Exit);
        Assert.Contains("sequence 4: changed", changed.Stderr, StringComparison.Ordinal);

        // …rewrites every hash from the edited one on, as the vault would have: the signed checkpoint still catches it.
        var rehashed = await RehashedAsync(trail);
        var caught = await VerifyAsync(trail, rehashed);
        Assert.Equal(3, caught.Exit);
        Assert.Contains("changed", caught.Stderr, StringComparison.Ordinal);
    }

    // The export with every hash from sequence 1 recomputed over the (edited) content: what an
    // attacker who can write the database but not sign can make. Only the checkpoints stand in the way.
    private static async Task<string> RehashedAsync(Trail trail)
    {
        var lines = (await File.ReadAllLinesAsync(trail.Export)).ToList();
        var previous = new string('0', 64);
        for (int i = 1; i < lines.Count; i++)
        {
            var e = JsonNode.Parse(lines[i])!;
            if (!e["sid"]!.GetValue<string>().StartsWith("AE", StringComparison.Ordinal))
            {
                continue;
            }
            if (e["sequence"]!.GetValue<long>() == 4)
            {
                e["actor_sid"] = null;
            }
            e["previous_hash"] = previous;
            var canonical = VoiceVault.Crypto.Jcs.Element(JsonDocument.Parse(e.ToJsonString()).RootElement, n => n is "hash" or "url");
            previous = Convert.ToHexStringLower(SHA256.HashData([.. Convert.FromHexString(previous), .. Encoding.UTF8.GetBytes(canonical)]));
            e["hash"] = previous;
            lines[i] = e.ToJsonString();
        }
        var file = Path.Combine(trail.Dir, "rehashed.jsonl");
        await File.WriteAllLinesAsync(file, lines);
        return file;
    }

    [Fact]
    public async Task An_interrupted_export_resumes_where_it_stopped_and_verifies()
    {
        await using var trail = await TrailAsync();
        var lines = await File.ReadAllLinesAsync(trail.Export);
        // What a killed run leaves: the header, some events, half a line.
        var again = Path.Combine(trail.Dir, "again.jsonl");
        await File.WriteAllTextAsync(again + ".partial", string.Join('\n', lines[..8]) + "\n" + lines[8][..40]);
        var resumed = await TestProcess.ToolkitAsync(trail.Env, "audit", "export", "--account", trail.Account, "--out", again, "--base-url", trail.Vault.BaseUri.ToString());
        Assert.True(resumed.Exit == 0, resumed.Stderr);
        Assert.Contains("resumed", resumed.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(again + ".partial"));
        // The same export: the resumed run kept the first run's checkpoint.
        Assert.Equal(lines, await File.ReadAllLinesAsync(again));
        Assert.Equal(0, (await VerifyAsync(trail, again)).Exit);
    }
}
