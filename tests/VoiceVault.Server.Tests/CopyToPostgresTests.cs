using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using System.Security.Cryptography;
using Npgsql;
using Twilio.Rest.Accounts.V1.Credential;
using Twilio.Rest.Api.V2010;
using Twilio.Rest.Api.V2010.Account;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>The operator's move from the embedded default to PostgreSQL: copy, verify, run again, start on PostgreSQL.</summary>
public sealed class CopyToPostgresTests
{
    private static Task<(int Exit, string Output)> CopyAsync(string dataDir, string connection) =>
        TestProcess.ServerCommandAsync("copy-to-postgres", "--VoiceVault:DataDir", dataDir, "--ConnectionStrings:VoiceVault", connection);

    [Fact]
    public async Task An_embedded_vault_copies_into_PostgreSQL_verified_again_and_again_and_runs_there_unchanged()
    {
        var key = "copy-" + Guid.NewGuid().ToString("N");
        var connection = TestDatabase.SchemaConnection(key);
        try
        {
            await using var receiver = await CallbackReceiver.StartAsync();
            using var rsa = RSA.Create(2048);
            using var rotated = RSA.Create(2048);
            string rotatedSid;
            List<string> wrapsBefore;
            var wav = Audio.Wav(2);
            string customerSid, serverSid, subSid, subToken;
            string dataDir, mainSid, mainToken;
            var (twilioAccount, twilioToken) = ("AC" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
            List<string> before;
            await using (var embedded = await VaultServer.StartAsync(keepData: true, extraArgs: ["--VoiceVault:Database", "sqlite"]))
            {
                (dataDir, mainSid, mainToken) = (embedded.DataDir, embedded.AccountSid, embedded.AuthToken);
                var keySid = await embedded.AddKeyAsync(rsa);
                await embedded.SetEncryptionAsync(embedded.AccountSid, enabled: true, keySid);
                using var http = embedded.Http(embedded.AccountSid, embedded.AuthToken);
                customerSid = (await embedded.UploadAsync(embedded.AccountSid, embedded.AuthToken, Audio.CallSid(), wav,
                    $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}")).Body.GetProperty("sid").GetString()!;
                // A re-wrap to a second key: the recording then has two wraps, one of them only in recording_wraps.
                rotatedSid = await embedded.AddKeyAsync(rotated);
                var original = EncryptionDetails.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{embedded.AccountSid}/Recordings/{customerSid}.json"));
                using (var cek = KeyWrap.Unwrap(rsa, original.EncryptedCek))
                {
                    (await http.PostAsync($"/v1/Recordings/{customerSid}/EncryptionDetails", new FormUrlEncodedContent(new Dictionary<string, string>
                    {
                        ["PublicKeySid"] = rotatedSid, ["EncryptedCek"] = Convert.ToBase64String(KeyWrap.Wrap(rotated, cek)),
                    }))).EnsureSuccessStatusCode();
                }
                wrapsBefore = await WrapsAsync(http, customerSid);
                Assert.Equal(2, wrapsBefore.Count);
                await NewKeyResource.CreateAsync(friendlyName: "ops", client: embedded.Twilio());
                (await http.PostAsync($"/v1/Accounts/{embedded.AccountSid}/AuditCheckpoints", null)).EnsureSuccessStatusCode();
                // A failed authentication: counted, and left for the next start to write (the vault stops within its minute).
                using (var wrong = embedded.Http(embedded.AccountSid, "wrong"))
                {
                    Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync($"/2010-04-01/Accounts/{embedded.AccountSid}.json")).StatusCode);
                }
                (await embedded.Http().PostAsync("/console/session", new StringContent(JsonSerializer.Serialize(new { sid = embedded.AccountSid, secret = embedded.AuthToken }),
                    Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
                await PublicKeyResource.DeleteAsync(pathSid: keySid, client: embedded.Twilio());
                await PublicKeyResource.DeleteAsync(pathSid: rotatedSid, client: embedded.Twilio());
                var failed = await embedded.UploadAsync(embedded.AccountSid, embedded.AuthToken, Audio.CallSid(), wav);      // 16104, a notification
                Assert.Equal("failed", failed.Body.GetProperty("status").GetString());
                await embedded.SetEncryptionAsync(embedded.AccountSid, enabled: false);
                serverSid = (await embedded.UploadAsync(embedded.AccountSid, embedded.AuthToken, Audio.CallSid(), wav)).Body.GetProperty("sid").GetString()!;
                using (var spare = RSA.Create(2048))
                {
                    await embedded.AddKeyAsync(spare);
                }
                var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: embedded.Twilio());
                (subSid, subToken) = (sub.Sid, sub.AuthToken);
                (await http.PostAsync($"/v1/Accounts/{subSid}/TwilioLink", new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["TwilioAccountSid"] = twilioAccount,
                    ["TwilioAuthToken"] = twilioToken,
                }))).EnsureSuccessStatusCode();
                await receiver.WaitForAsync(1);
                before = (await RecordingResource.ReadAsync(client: embedded.Twilio())).Select(r => $"{r.Sid} {r.Status} {r.ErrorCode} {r.Duration}").ToList();
            }

            var (exit, output) = await CopyAsync(dataDir, connection);
            Assert.True(exit == 0, output);
            Assert.Contains("Every table verified", output, StringComparison.Ordinal);
            Assert.Matches(@"recordings\s+3 copied\s+3 rows in SQLite\s+3 in PostgreSQL\s+verified", output);
            Assert.Matches(@"twilio_links\s+1 copied\s+1 rows in SQLite\s+1 in PostgreSQL\s+verified", output);
            Assert.Matches(@"recording_wraps\s+2 copied\s+2 rows in SQLite\s+2 in PostgreSQL\s+verified", output);
            // Every table of the schema is named in the summary: copied with its counts, or left out with why.
            var tables = await SqliteTablesAsync(dataDir);
            Assert.Contains("recording_wraps", tables);
            foreach (var table in tables)
            {
                Assert.Matches($@"(?m)^{table}\s+(\d+ copied .* verified|not copied: .+)$", output);
            }
            // Every kind of row the migrations can make was in the vault copied (no table copied empty, so none untested).
            Assert.True(!System.Text.RegularExpressions.Regex.IsMatch(output, @"\s0 copied"), output);

            // An interrupted or stale copy: rows missing or changed in PostgreSQL. Running it again converges.
            await using (var db = new NpgsqlConnection(connection))
            {
                await db.OpenAsync();
                await using var damage = new NpgsqlCommand("DELETE FROM outbox; DELETE FROM notifications; UPDATE recordings SET status = 'absent' WHERE sid = @sid", db);
                damage.Parameters.AddWithValue("sid", customerSid);
                await damage.ExecuteNonQueryAsync();
            }
            (exit, output) = await CopyAsync(dataDir, connection);
            Assert.True(exit == 0, output);
            Assert.DoesNotContain("DIFFERENT", output, StringComparison.Ordinal);

            await using var onPostgres = await VaultServer.StartAsync(dataDir, mainSid, mainToken, extraArgs: ["--VoiceVault:Database", "postgres", "--ConnectionStrings:VoiceVault", connection]);
            var after = (await RecordingResource.ReadAsync(client: onPostgres.Twilio())).Select(r => $"{r.Sid} {r.Status} {r.ErrorCode} {r.Duration}").ToList();
            Assert.Equal(before, after);
            Assert.Equal("16104", Assert.Single(await NotificationResource.ReadAsync(client: onPostgres.Twilio())).ErrorCode);
            Assert.Equal("tenant", (await AccountResource.FetchAsync(pathSid: subSid, client: onPostgres.Twilio(subSid, subToken))).FriendlyName);
            // The sealed Twilio link came along and still opens: Twilio's signed stream is accepted.
            var streamUrl = $"ws://127.0.0.1:5080/v1/Ingest/MediaStream/{subSid}"; // the default PublicBaseUrl
            await using (var stream = await MediaStream.ConnectAsTwilioAsync(onPostgres.BaseUri, subSid, Core.TwilioSignature.Sign(twilioToken, streamUrl, []), twilioAccount))
            {
                Assert.Equal(HttpStatusCode.SwitchingProtocols, stream.HandshakeStatus);
            }
            using var http2 = onPostgres.Http(onPostgres.AccountSid, onPostgres.AuthToken);
            // Both wraps came along: the rotated key opens the recording, and so does the original.
            Assert.Equal(wrapsBefore, await WrapsAsync(http2, customerSid));
            Assert.Equal(wav, Customer.Decrypt(rotated, EncryptionDetails.Parse(await http2.GetStringAsync($"/2010-04-01/Accounts/{onPostgres.AccountSid}/Recordings/{customerSid}.json")),
                await http2.GetByteArrayAsync($"/2010-04-01/Accounts/{onPostgres.AccountSid}/Recordings/{customerSid}")));
            // Media stayed where it was: the server-managed recording plays, the customer's decrypts with its key.
            Assert.Equal(wav, await http2.GetByteArrayAsync($"/2010-04-01/Accounts/{onPostgres.AccountSid}/Recordings/{serverSid}.wav"));
            var first = (await http2.GetFromJsonAsync<JsonElement>($"/v1/Recordings/{customerSid}/EncryptionDetails")).GetProperty("encryption_details").EnumerateArray()
                .Single(w => w.GetProperty("public_key_sid").GetString() != rotatedSid);
            // OAEP refuses a wrap made to another key, so this unwrap succeeding proves the original wrap is intact.
            using (var cek = KeyWrap.Unwrap(rsa, Convert.FromBase64String(first.GetProperty("encrypted_cek").GetString()!)))
            {
                Assert.NotNull(cek);
            }
            // New rows continue after the copied ones: the newest recording lists first.
            var fresh = await onPostgres.UploadAsync(onPostgres.AccountSid, onPostgres.AuthToken, Audio.CallSid(), wav);
            Assert.Equal(HttpStatusCode.Created, fresh.Status);
            Assert.Equal(fresh.Body.GetProperty("sid").GetString(), (await RecordingResource.ReadAsync(client: onPostgres.Twilio(), limit: 1)).First().Sid);
        }
        finally
        {
            TestDatabase.Drop(key, force: true);
        }
    }

    private static async Task<List<string>> WrapsAsync(HttpClient http, string recordingSid) =>
        (await http.GetFromJsonAsync<JsonElement>($"/v1/Recordings/{recordingSid}/EncryptionDetails")).GetProperty("encryption_details").EnumerateArray()
            .Select(w => $"{w.GetProperty("public_key_sid").GetString()} {w.GetProperty("encrypted_cek").GetString()} {w.GetProperty("date_created").GetString()}").ToList();

    private static async Task<List<string>> SqliteTablesAsync(string dataDir)
    {
        await using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDir, "vault.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await db.OpenAsync();
        await using var query = db.CreateCommand();
        query.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'";
        var names = new List<string>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    [Fact]
    public async Task A_table_only_one_side_has_stops_the_copy_before_anything_is_written()
    {
        var key = "copy-extra-" + Guid.NewGuid().ToString("N");
        string dataDir;
        await using (var embedded = await VaultServer.StartAsync(keepData: true, extraArgs: ["--VoiceVault:Database", "sqlite"]))
        {
            dataDir = embedded.DataDir;
        }
        try
        {
            // What a migration written for SQLite alone would leave behind: a table PostgreSQL does not have.
            await using (var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDir, "vault.db"), Pooling = false }.ToString()))
            {
                await db.OpenAsync();
                await using var create = db.CreateCommand();
                create.CommandText = "CREATE TABLE legal_holds (sid TEXT PRIMARY KEY); INSERT INTO legal_holds VALUES ('HL1')";
                await create.ExecuteNonQueryAsync();
            }
            var connection = TestDatabase.SchemaConnection(key);
            var (exit, output) = await CopyAsync(dataDir, connection);
            Assert.Equal(1, exit);
            Assert.Contains("error: The two schemas differ, so a copy would lose data: table legal_holds is only in SQLite", output, StringComparison.Ordinal);
            await using var pg = new NpgsqlConnection(connection);
            await pg.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM accounts", pg);
            Assert.Equal(0L, await count.ExecuteScalarAsync());
        }
        finally
        {
            TestDatabase.Drop(key, force: true);
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Copying_a_folder_without_a_vault_says_what_is_missing()
    {
        var empty = Directory.CreateTempSubdirectory("vv-copy-empty-").FullName;
        var key = "copy-empty-" + Guid.NewGuid().ToString("N");
        try
        {
            var (exit, output) = await CopyAsync(empty, TestDatabase.SchemaConnection(key));
            Assert.Equal(1, exit);
            Assert.Contains($"error: No embedded database at {Path.Combine(empty, "vault.db")}", output, StringComparison.Ordinal);
        }
        finally
        {
            TestDatabase.Drop(key, force: true);
            Directory.Delete(empty, recursive: true);
        }
    }
}
