using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The metadata backend the server tests run on: <c>VOICEVAULT_TEST_DATABASE</c> = sqlite (default)
/// or postgres, with <c>VOICEVAULT_POSTGRES</c> the connection string of a server that
/// <c>scripts/test.sh</c> starts. On PostgreSQL each vault data folder gets its own schema, so
/// tests are isolated from each other and a restart on the same folder finds its data again.
/// </summary>
internal static class TestDatabase
{
    public static string Backend => Environment.GetEnvironmentVariable("VOICEVAULT_TEST_DATABASE") is { Length: > 0 } name ? name : "sqlite";

    public static bool IsPostgres => Backend == "postgres";

    /// <summary>The PostgreSQL server's connection string; a clear failure when the test script did not start one.</summary>
    public static string PostgresConnection => Environment.GetEnvironmentVariable("VOICEVAULT_POSTGRES") is { Length: > 0 } connection
        ? connection
        : throw new InvalidOperationException("These tests need PostgreSQL: run ./scripts/test.sh (it starts one), or start one with " +
            "scripts/postgres.sh up and export VOICEVAULT_POSTGRES from its env.sh.");

    /// <summary>The server arguments that put a vault with this data folder on the backend under test.</summary>
    public static string[] ArgsFor(string dataDir) => IsPostgres
        ? ["--VoiceVault:Database", "postgres", "--ConnectionStrings:VoiceVault", SchemaConnection(dataDir)]
        : [];

    /// <summary>A connection string whose tables live in a schema of their own (created now if missing).</summary>
    public static string SchemaConnection(string key)
    {
        var schema = SchemaOf(key);
        using (var db = new NpgsqlConnection(PostgresConnection))
        {
            db.Open();
            using var create = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS {schema}", db);
            create.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(PostgresConnection) { SearchPath = schema }.ToString();
    }

    /// <summary>
    /// One value from the database of the vault whose data folder this is — the vault may run in
    /// another process. Only for tests' own checks (counts, heartbeats); SQL both backends accept.
    /// With <paramref name="force"/>, PostgreSQL whatever the suite runs on (tests of several instances).
    /// </summary>
    public static async Task<string?> ScalarAsync(string dataDir, string sql, bool force = false)
    {
        System.Data.Common.DbConnection db = IsPostgres || force
            ? new NpgsqlConnection(SchemaConnection(dataDir))
            : new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(dataDir, "vault.db"),
                Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly,
                Pooling = false,
            }.ToString());
        await using (db)
        {
            await db.OpenAsync();
            await using var command = db.CreateCommand();
            command.CommandText = sql;
            return (await command.ExecuteScalarAsync())?.ToString();
        }
    }

    /// <summary>
    /// Runs <paramref name="sql"/> against the database of the vault whose data folder this is, as
    /// someone with access to the database would (SQL both backends accept).
    /// </summary>
    public static async Task ExecuteAsync(string dataDir, string sql)
    {
        System.Data.Common.DbConnection db = IsPostgres
            ? new NpgsqlConnection(SchemaConnection(dataDir))
            : new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(dataDir, "vault.db"),
                Pooling = false,
                DefaultTimeout = 30,
            }.ToString());
        await using (db)
        {
            await db.OpenAsync();
            await using var command = db.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Drops what <see cref="ArgsFor"/> made for this data folder.</summary>
    public static void Drop(string key, bool force = false)
    {
        if (!IsPostgres && !force)
        {
            return;
        }
        NpgsqlConnection.ClearAllPools();
        using var db = new NpgsqlConnection(PostgresConnection);
        db.Open();
        using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {SchemaOf(key)} CASCADE", db);
        drop.ExecuteNonQuery();
    }

    /// <summary>Every value stored in this data folder's schema, as bytes (bytea as is, text as UTF-8), for "this never reached the database" checks.</summary>
    public static byte[] Dump(string key)
    {
        var schema = SchemaOf(key);
        using var db = new NpgsqlConnection(PostgresConnection);
        db.Open();
        var tables = new List<string>();
        using (var list = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = @schema", db))
        {
            list.Parameters.AddWithValue("schema", schema);
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }
        using var all = new MemoryStream();
        foreach (var table in tables)
        {
            using var select = new NpgsqlCommand($"SELECT * FROM {schema}.{table}", db);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                for (int i = 0; i < reader.FieldCount; i++)
                {
                    var bytes = reader.GetValue(i) switch
                    {
                        byte[] raw => raw,
                        DBNull => [],
                        var value => Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? ""),
                    };
                    all.Write(bytes);
                    all.WriteByte(0);
                }
            }
        }
        return all.ToArray();
    }

    private static string SchemaOf(string key) => "vv_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..20];
}
