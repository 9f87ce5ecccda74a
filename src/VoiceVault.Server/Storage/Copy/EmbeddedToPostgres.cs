using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace VoiceVault.Server.Storage.Copy;

/// <summary>What copying one table did: its rows on each side and whether their contents agree.</summary>
public sealed record TableCopy(string Table, long SourceRows, long TargetRows, string SourceChecksum, string TargetChecksum)
{
    public bool Verified => SourceRows == TargetRows && SourceChecksum == TargetChecksum;
}

/// <summary>
/// Copies an embedded vault's metadata (its SQLite database) into PostgreSQL: every table, parents
/// before children, in batches, as upserts on each table's key — so running it again, after an
/// interruption or after the source changed, converges on the source instead of failing or
/// duplicating. Then counts and checksums every table on both sides (rows in key order, values in
/// one canonical form). Media is not touched: the copy's vault reads the same media folder.
/// </summary>
public sealed class EmbeddedToPostgres(string sqliteFile, string postgresConnection, TextWriter progress)
{
    private const int Batch = 500;

    // Parents first (foreign keys); the key each table is upserted and ordered on.
    private static readonly (string Table, string Key)[] Tables =
    [
        ("accounts", "seq"), ("twilio_links", "account_sid"), ("api_keys", "seq"), ("public_keys", "seq"), ("encryption_settings", "account_sid"), ("recordings", "seq"),
        ("notifications", "seq"), ("outbox", "seq"), ("instances", "id"), ("recording_owners", "recording_sid"),
    ];

    public async Task<IReadOnlyList<TableCopy>> RunAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(sqliteFile))
        {
            throw new InvalidOperationException($"No embedded database at {sqliteFile}: give the data folder of the vault to copy (--VoiceVault:DataDir).");
        }
        await using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = sqliteFile, Mode = SqliteOpenMode.ReadOnly }.ToString());
        await source.OpenAsync(cancellationToken);
        int sourceVersion = await Sql.Migrations.VersionAsync(source);
        int known = Sql.Migrations.Of("sqlite").Count;
        if (sourceVersion != known)
        {
            throw new InvalidOperationException($"The embedded database is at schema version {sourceVersion}; this VoiceVault copies version {known}. " +
                "Start the embedded vault with this VoiceVault once (it migrates), stop it, then copy.");
        }
        await using var target = new NpgsqlDataSourceBuilder(postgresConnection).Build();
        using (var database = new Postgres.PostgresVaultDatabase(postgresConnection))
        {
            await database.MigrateAsync();
        }
        var results = new List<TableCopy>();
        await using var db = await target.OpenConnectionAsync(cancellationToken);
        foreach (var (table, key) in Tables)
        {
            var columns = await ColumnsAsync(db, table, cancellationToken);
            long copied = await CopyTableAsync(source, db, table, key, columns, cancellationToken);
            if (columns.ContainsKey("seq"))
            {
                // The identity goes on after the highest copied seq, so new rows keep their lists' order.
                await using var reseed = new NpgsqlCommand($"SELECT setval(pg_get_serial_sequence('{table}', 'seq'), GREATEST((SELECT MAX(seq) FROM {table}), 1))", db);
                await reseed.ExecuteNonQueryAsync(cancellationToken);
            }
            var (sourceRows, sourceSum) = await ChecksumAsync(source, table, key, columns, cancellationToken);
            var (targetRows, targetSum) = await ChecksumAsync(db, table, key, columns, cancellationToken);
            var result = new TableCopy(table, sourceRows, targetRows, sourceSum, targetSum);
            results.Add(result);
            progress.WriteLine($"{table,-20} {copied,9} copied  {sourceRows,9} rows in SQLite  {targetRows,9} in PostgreSQL  {(result.Verified ? "verified" : "DIFFERENT")}");
        }
        return results;
    }

    // PostgreSQL's column types decide how each SQLite value is written.
    private static async Task<Dictionary<string, string>> ColumnsAsync(NpgsqlConnection db, string table, CancellationToken cancellationToken)
    {
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var query = new NpgsqlCommand("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table ORDER BY ordinal_position", db);
        query.Parameters.AddWithValue("table", table);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns[reader.GetString(0)] = reader.GetString(1);
        }
        return columns;
    }

    private async Task<long> CopyTableAsync(SqliteConnection source, NpgsqlConnection db, string table, string key, Dictionary<string, string> columns, CancellationToken cancellationToken)
    {
        var names = columns.Keys.ToList();
        var updates = names.Where(n => n != key).Select(n => $"{n} = excluded.{n}").ToList();
        var insert = $"INSERT INTO {table} ({string.Join(", ", names)}) {(columns.ContainsKey("seq") ? "OVERRIDING SYSTEM VALUE " : "")}" +
            $"VALUES ({string.Join(", ", names.Select((_, i) => "$" + (i + 1).ToString(CultureInfo.InvariantCulture)))}) " +
            $"ON CONFLICT ({key}) DO {(updates.Count == 0 ? "NOTHING" : "UPDATE SET " + string.Join(", ", updates))}";
        long copied = 0;
        await using var read = source.CreateCommand();
        read.CommandText = $"SELECT {string.Join(", ", names)} FROM {table} ORDER BY {key}";
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        var batch = new NpgsqlBatch(db);
        while (true)
        {
            bool more = await reader.ReadAsync(cancellationToken);
            if (more)
            {
                var command = new NpgsqlBatchCommand(insert);
                for (int i = 0; i < names.Count; i++)
                {
                    command.Parameters.Add(ToPostgres(reader.GetValue(i), columns[names[i]], table, names[i]));
                }
                batch.BatchCommands.Add(command);
            }
            if (batch.BatchCommands.Count == Batch || (!more && batch.BatchCommands.Count > 0))
            {
                await using (var tx = await db.BeginTransactionAsync(cancellationToken))
                {
                    batch.Transaction = tx;
                    await batch.ExecuteNonQueryAsync(cancellationToken);
                    await tx.CommitAsync(cancellationToken);
                }
                copied += batch.BatchCommands.Count;
                await batch.DisposeAsync();
                batch = new NpgsqlBatch(db);
            }
            if (!more)
            {
                break;
            }
        }
        await batch.DisposeAsync();
        return copied;
    }

    private static NpgsqlParameter ToPostgres(object value, string type, string table, string column)
    {
        if (value is DBNull)
        {
            return new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = TypeOf(type) };
        }
        try
        {
            object converted = type switch
            {
                "timestamp with time zone" => DateTimeOffset.Parse((string)value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime(),
                "boolean" => Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0,
                "integer" => checked((int)Convert.ToInt64(value, CultureInfo.InvariantCulture)),
                "bigint" => Convert.ToInt64(value, CultureInfo.InvariantCulture),
                "bytea" => (byte[])value,
                _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
            };
            return new NpgsqlParameter { Value = converted, NpgsqlDbType = TypeOf(type) };
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new InvalidOperationException($"{table}.{column} holds a value that is not a {type} ({e.Message}); nothing of this batch was written.", e);
        }
    }

    private static NpgsqlDbType TypeOf(string type) => type switch
    {
        "timestamp with time zone" => NpgsqlDbType.TimestampTz,
        "boolean" => NpgsqlDbType.Boolean,
        "integer" => NpgsqlDbType.Integer,
        "bigint" => NpgsqlDbType.Bigint,
        "bytea" => NpgsqlDbType.Bytea,
        _ => NpgsqlDbType.Text,
    };

    /// <summary>Rows and a SHA-256 of every row in key order, each value in one form whichever backend holds it.</summary>
    private static async Task<(long Rows, string Checksum)> ChecksumAsync(DbConnection db, string table, string key, Dictionary<string, string> columns, CancellationToken cancellationToken)
    {
        var names = columns.Keys.ToList();
        await using var command = db.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", names)} FROM {table} ORDER BY {key}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long rows = 0;
        var line = new StringBuilder();
        while (await reader.ReadAsync(cancellationToken))
        {
            line.Clear();
            for (int i = 0; i < names.Count; i++)
            {
                line.Append(Canonical(reader.GetValue(i), columns[names[i]])).Append('\u001f');
            }
            hash.AppendData(Encoding.UTF8.GetBytes(line.Append('\u001e').ToString()));
            rows++;
        }
        return (rows, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static string Canonical(object value, string type) => value switch
    {
        DBNull => "\u0000",
        byte[] bytes => Convert.ToHexStringLower(bytes),
        bool b => b ? "1" : "0",
        DateTime time => Sql.SqlRows.SqliteText(new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc))),
        DateTimeOffset time => Sql.SqlRows.SqliteText(time),
        string text when type == "timestamp with time zone" => Sql.SqlRows.SqliteText(DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
