using System.Net;
using Dapper;
using VoiceVault.Server.Operations;
using VoiceVault.Server.Core;
using VoiceVault.Server.Storage.Sqlite;

namespace VoiceVault.Server.Tests;

/// <summary>What operators rely on: /metrics, and the SQLite writer's group commit.</summary>
public sealed class OperationsTests
{
    // A series nothing has been recorded in yet is not served: it counts as 0.
    private static double Metric(string text, string series) => PrometheusText.Parse(text).GetValueOrDefault(series);

    [Fact]
    public void Every_instrument_is_named_by_OpenTelemetry_conventions_and_no_two_names_differ_by_one_letter()
    {
        var found = new List<System.Diagnostics.Metrics.Instrument>();
        using var metrics = new VaultMetrics();
        using (var listener = new System.Diagnostics.Metrics.MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter))
                {
                    found.Add(instrument);
                }
            };
            listener.Start();
        }
        // Every public instrument of VaultMetrics, and the gauge it observes.
        Assert.Equal(typeof(VaultMetrics).GetProperties().Count(p => p.PropertyType.DeclaringType == typeof(VaultMetrics)) + 1, found.Count);
        foreach (var instrument in found)
        {
            Assert.Matches(@"^voicevault(\.[a-z][a-z_]*)+$", instrument.Name);
            Assert.False(string.IsNullOrEmpty(instrument.Unit), $"{instrument.Name} has no unit");
            Assert.False(string.IsNullOrEmpty(instrument.Description), $"{instrument.Name} has no description");
            Assert.True(instrument.Unit != "s" || instrument.Name.EndsWith(".duration", StringComparison.Ordinal), $"{instrument.Name} is a time but not *.duration");
            Assert.True(instrument.Unit != "By" || !System.Text.RegularExpressions.Regex.IsMatch(instrument.Name, "bytes?"), $"{instrument.Name} names its unit");
        }
        foreach (var a in found)
        {
            foreach (var b in found.Where(b => !ReferenceEquals(a, b)))
            {
                Assert.True(Distance(a.Name, b.Name) > 1, $"{a.Name} and {b.Name} differ by one letter");
            }
        }
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    [Fact]
    public async Task Metrics_count_uploads_and_callbacks_and_name_no_tenant()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        using var plain = vault.Http();
        var before = await plain.GetStringAsync("/metrics");
        Assert.Equal(0, Metric(before, "voicevault_uploads_total{status=\"completed\"}"));

        var wav = Audio.Wav(2);
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav, $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}");
        Assert.Equal(HttpStatusCode.Created, status);
        await receiver.WaitForAsync(1);
        // The delivery is counted once its request has been answered.
        string after = "";
        await Eventually.TrueAsync(async () => Metric(after = await plain.GetStringAsync("/metrics"), "voicevault_callback_deliveries_total{outcome=\"delivered\"}") >= 1,
            "the delivery is counted");

        Assert.Equal(1, Metric(after, "voicevault_uploads_total{status=\"completed\"}"));
        Assert.Equal(wav.Length, Metric(after, "voicevault_upload_plaintext_bytes_total"));
        Assert.Equal(1, Metric(after, "voicevault_callback_deliveries_total{outcome=\"delivered\"}"));
        Assert.Equal(1, Metric(after, "voicevault_callback_queue_duration_seconds_count"));
        Assert.Equal(1, Metric(after, "voicevault_callback_queue_duration_seconds_bucket{le=\"+Inf\"}"));
        if (!TestDatabase.IsPostgres)
        {
            Assert.True(Metric(after, "voicevault_db_commit_units_count") >= 2, "the upload's writes went through the SQLite writer");
        }
        // The framework's meters are served beside the vault's.
        Assert.True(Metric(after, "dotnet_process_memory_working_set_bytes") > 0);
        Assert.Contains(PrometheusText.Parse(after).Keys, k => k.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal));
        Assert.Contains(PrometheusText.Parse(after).Keys, k => k.StartsWith("http_client_request_duration_seconds_count{", StringComparison.Ordinal));
        Assert.Contains(PrometheusText.Parse(after).Keys, k => k.StartsWith("kestrel_active_connections{", StringComparison.Ordinal));
        if (TestDatabase.IsPostgres)
        {
            Assert.Contains(PrometheusText.Parse(after).Keys, k => k.StartsWith("db_client_", StringComparison.Ordinal));
        }
        // The callback went to a URL the tenant chose: neither it nor its host's port is in any series.
        var receiverPort = "\"" + new Uri(receiver.Url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"";
        foreach (var secret in new[] { vault.AccountSid, vault.AuthToken, body.GetProperty("sid").GetString()!, receiver.Url, new Uri(receiver.Url).AbsolutePath, receiverPort })
        {
            Assert.DoesNotContain(secret, after, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_failing_write_is_rolled_back_alone_while_the_writes_committed_with_it_stay()
    {
        var dir = Directory.CreateTempSubdirectory("vv-db-").FullName;
        try
        {
            using (var database = new SqliteVaultDatabase(new VaultOptions { DataDir = dir }, new VaultMetrics()))
            {
                await database.WriteAsync(scope => scope.Connection.ExecuteAsync("CREATE TABLE t (n INTEGER PRIMARY KEY, v TEXT NOT NULL)", transaction: scope.Transaction));
                // Many writers at once, so the writer commits several in one transaction; #13 inserts and then fails.
                var writes = Enumerable.Range(0, 40).Select(n => database.WriteAsync(async scope =>
                {
                    await scope.Connection.ExecuteAsync("INSERT INTO t (n, v) VALUES (@n, 'x')", new { n }, scope.Transaction);
                    if (n == 13)
                    {
                        await scope.Connection.ExecuteAsync("INSERT INTO t (n, v) VALUES (1000, NULL)", transaction: scope.Transaction); // NOT NULL: throws
                    }
                    return n;
                })).ToList();
                var failure = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => writes[13]);
                Assert.Contains("NOT NULL", failure.Message, StringComparison.Ordinal);
                foreach (var (write, n) in writes.Select((w, n) => (w, n)).Where(p => p.n != 13))
                {
                    Assert.Equal(n, await write);
                }
                await using var read = await database.OpenAsync();
                var rows = (await read.QueryAsync<long>("SELECT n FROM t ORDER BY n")).ToList();
                Assert.Equal(Enumerable.Range(0, 40).Where(n => n != 13).Select(n => (long)n), rows);

                // A unit's after-commit hook sees its result once the commit is done.
                long seen = -1;
                await database.WriteAsync(scope => scope.Connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t", transaction: scope.Transaction), count => seen = count);
                Assert.Equal(39, seen);
            }
            using var reopened = new SqliteVaultDatabase(new VaultOptions { DataDir = dir }, new VaultMetrics());
            await using var again = await reopened.OpenAsync();
            Assert.Equal(39, await again.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}

public sealed class MasterKeyTests
{
    [Fact]
    public void Sealing_and_opening_from_many_threads_at_once_round_trips_every_value()
    {
        using var key = new VoiceVault.Server.Core.MasterKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var failures = 0;
        Parallel.For(0, 200_000, new ParallelOptions { MaxDegreeOfParallelism = 32 }, i =>
        {
            var value = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
            var context = "RE" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                if (!key.Open(key.Seal(value, context), context).AsSpan().SequenceEqual(value))
                {
                    Interlocked.Increment(ref failures);
                }
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }
}
