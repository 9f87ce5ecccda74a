using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Copy;

/// <summary>What copying one table did: its rows on each side and whether their contents agree.</summary>
public sealed record TableCopy(string Table, long SourceRows, long TargetRows, string SourceChecksum, string TargetChecksum)
{
    public bool Verified => SourceRows == TargetRows && SourceChecksum == TargetChecksum;
}

/// <summary>What the copy did: the tables it copied and verified, and the tables it left out on purpose with why.</summary>
public sealed record CopyReport(IReadOnlyList<TableCopy> Copied, IReadOnlyList<(string Table, string Reason)> LeftOut)
{
    public bool Verified => Copied.All(t => t.Verified);
}

/// <summary>
/// Copies an embedded vault's metadata (its SQLite database) into PostgreSQL: every table of the
/// schema, as the database's own catalogue lists them — parents before children by their foreign
/// keys, each upserted on its primary key in batches, so running it again after an interruption or
/// after the source changed converges on the source instead of failing or duplicating. Then counts
/// and checksums every table on both sides (rows in key order, values in one canonical form).
/// Nothing is listed by hand but <see cref="LeftOut"/>: a table a new migration adds is copied
/// without anyone remembering to, and a table one side has and the other lacks stops the copy.
/// Media is not touched: the copy's vault reads the same media folder.
/// </summary>
public sealed class EmbeddedToPostgres(string sqliteFile, string postgresConnection, TextWriter progress)
{
    private const int Batch = 500;

    /// <summary>The tables that are not copied, on purpose, and why. Every other table is.</summary>
    public static readonly IReadOnlyDictionary<string, string> LeftOut = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["schema_migrations"] = "each backend records its own migrations; PostgreSQL is migrated to the same version before the copy",
        ["console_sessions"] = "console sign-ins belong to the vault that issued them; users sign in again on the new one",
        ["live_calls"] = "a live call lives as long as the instance streaming it, and the embedded vault is stopped",
        ["limit_buckets"] = "the limiter's counts of the last minutes; the embedded vault keeps them in memory and this table is empty",
        ["limit_remembered"] = "the limiter's addresses signed in from lately; the embedded vault keeps them in memory and this table is empty",
        ["limit_slots"] = "uploads and streams in progress on a running cluster; the embedded vault is stopped and keeps them in memory",
    };

    private sealed record Table(string Name, IReadOnlyList<string> Key, IReadOnlyDictionary<string, string> Columns, bool HasIdentity);

    public async Task<CopyReport> RunAsync(CancellationToken cancellationToken = default)
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
        using (var database = new Postgres.PostgresVaultDatabase(postgresConnection))
        {
            await database.MigrateAsync();
        }
        await using var target = new NpgsqlDataSourceBuilder(postgresConnection).Build();
        await using var db = await target.OpenConnectionAsync(cancellationToken);
        var tables = await SchemaAsync(source, db, cancellationToken);

        var copied = new List<TableCopy>();
        foreach (var table in tables)
        {
            long count = await CopyTableAsync(source, db, table, cancellationToken);
            if (table.HasIdentity)
            {
                // The identity goes on after the highest copied seq, so new rows keep their lists' order.
                await using var reseed = new NpgsqlCommand($"SELECT setval(pg_get_serial_sequence('{table.Name}', 'seq'), GREATEST((SELECT MAX(seq) FROM {table.Name}), 1))", db);
                await reseed.ExecuteNonQueryAsync(cancellationToken);
            }
            var (sourceRows, sourceSum) = await ChecksumAsync(source, table, cancellationToken);
            var (targetRows, targetSum) = await ChecksumAsync(db, table, cancellationToken);
            var result = new TableCopy(table.Name, sourceRows, targetRows, sourceSum, targetSum);
            copied.Add(result);
            progress.WriteLine($"{table.Name,-20} {count,9} copied  {sourceRows,9} rows in SQLite  {targetRows,9} in PostgreSQL  {(result.Verified ? "verified" : "DIFFERENT")}");
        }
        var leftOut = LeftOut.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, t.Value)).ToList();
        foreach (var (table, reason) in leftOut)
        {
            progress.WriteLine($"{table,-20} not copied: {reason}");
        }
        return new CopyReport(copied, leftOut);
    }

    /// <summary>
    /// The tables to copy, parents first, read from PostgreSQL's catalogue (keys, foreign keys, column
    /// types) and checked against SQLite's: both sides must have the same tables with the same columns.
    /// </summary>
    private static async Task<IReadOnlyList<Table>> SchemaAsync(SqliteConnection source, NpgsqlConnection db, CancellationToken cancellationToken)
    {
        var sqliteTables = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        await using (var query = source.CreateCommand())
        {
            query.CommandText = "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                (sqliteTables.TryGetValue(reader.GetString(0), out var set) ? set : sqliteTables[reader.GetString(0)] = new(StringComparer.Ordinal)).Add(reader.GetString(1));
            }
        }

        var columns = new SortedDictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var identities = new HashSet<string>(StringComparer.Ordinal);
        await using (var query = new NpgsqlCommand("SELECT c.table_name, c.column_name, c.data_type, c.is_identity FROM information_schema.columns c " +
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name " +
            "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position", db))
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var table = reader.GetString(0);
                (columns.TryGetValue(table, out var map) ? map : columns[table] = new(StringComparer.Ordinal))[reader.GetString(1)] = reader.GetString(2);
                if (reader.GetString(3) == "YES")
                {
                    identities.Add(table);
                }
            }
        }

        var onlySqlite = sqliteTables.Keys.Except(columns.Keys).ToList();
        var onlyPostgres = columns.Keys.Except(sqliteTables.Keys).ToList();
        if (onlySqlite.Count > 0 || onlyPostgres.Count > 0)
        {
            throw new InvalidOperationException("The two schemas differ, so a copy would lose data: " +
                string.Join("; ", onlySqlite.Select(t => $"table {t} is only in SQLite").Concat(onlyPostgres.Select(t => $"table {t} is only in PostgreSQL"))) +
                ". Each migration must create the same tables on both backends.");
        }
        foreach (var (table, names) in sqliteTables)
        {
            if (!names.SetEquals(columns[table].Keys))
            {
                throw new InvalidOperationException($"Table {table} has columns ({string.Join(", ", names)}) in SQLite but ({string.Join(", ", columns[table].Keys.Order(StringComparer.Ordinal))}) in PostgreSQL; " +
                    "each migration must give both backends the same columns.");
            }
        }

        var keys = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var query = new NpgsqlCommand("SELECT t.relname, a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid " +
            "JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) " +
            "WHERE i.indisprimary AND n.nspname = current_schema() ORDER BY t.relname, array_position(i.indkey::int2[], a.attnum)", db))
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                (keys.TryGetValue(reader.GetString(0), out var list) ? list : keys[reader.GetString(0)] = []).Add(reader.GetString(1));
            }
        }

        var parents = columns.Keys.ToDictionary(t => t, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        await using (var query = new NpgsqlCommand("SELECT child.relname, parent.relname FROM pg_constraint c JOIN pg_class child ON child.oid = c.conrelid " +
            "JOIN pg_class parent ON parent.oid = c.confrelid JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()", db))
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                // A table that refers to itself (a subaccount to its parent) is ordered by its key: parents were made first.
                if (reader.GetString(0) != reader.GetString(1))
                {
                    parents[reader.GetString(0)].Add(reader.GetString(1));
                }
            }
        }

        var ordered = new List<Table>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        while (placed.Count < columns.Count)
        {
            var ready = columns.Keys.FirstOrDefault(t => !placed.Contains(t) && parents[t].IsSubsetOf(placed))
                ?? throw new InvalidOperationException($"The foreign keys of {string.Join(", ", columns.Keys.Where(t => !placed.Contains(t)))} form a cycle; no copy order exists.");
            placed.Add(ready);
            if (LeftOut.ContainsKey(ready))
            {
                continue;
            }
            var key = keys.TryGetValue(ready, out var k) ? k
                : throw new InvalidOperationException($"Table {ready} has no primary key in PostgreSQL, so a copy cannot be run again safely; give it one in a migration.");
            ordered.Add(new Table(ready, key, columns[ready], identities.Contains(ready)));
        }
        return ordered;
    }

    private async Task<long> CopyTableAsync(SqliteConnection source, NpgsqlConnection db, Table table, CancellationToken cancellationToken)
    {
        var names = table.Columns.Keys.ToList();
        var updates = names.Where(n => !table.Key.Contains(n)).Select(n => $"{n} = excluded.{n}").ToList();
        var insert = $"INSERT INTO {table.Name} ({string.Join(", ", names)}) {(table.HasIdentity ? "OVERRIDING SYSTEM VALUE " : "")}" +
            $"VALUES ({string.Join(", ", names.Select((_, i) => "$" + (i + 1).ToString(CultureInfo.InvariantCulture)))}) " +
            $"ON CONFLICT ({string.Join(", ", table.Key)}) DO {(updates.Count == 0 ? "NOTHING" : "UPDATE SET " + string.Join(", ", updates))}";
        long copied = 0;
        await using var read = source.CreateCommand();
        read.CommandText = $"SELECT {string.Join(", ", names)} FROM {table.Name} ORDER BY {string.Join(", ", table.Key)}";
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
                    command.Parameters.Add(ToPostgres(reader.GetValue(i), table.Columns[names[i]], table.Name, names[i]));
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
        "text" => NpgsqlDbType.Text,
        _ => throw new InvalidOperationException($"The copy does not know PostgreSQL's {type}; teach EmbeddedToPostgres how SQLite holds it."),
    };

    /// <summary>Rows and a SHA-256 of every row in key order, each value in one form whichever backend holds it.</summary>
    private static async Task<(long Rows, string Checksum)> ChecksumAsync(DbConnection db, Table table, CancellationToken cancellationToken)
    {
        var names = table.Columns.Keys.ToList();
        await using var command = db.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", names)} FROM {table.Name} ORDER BY {string.Join(", ", table.Key)}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long rows = 0;
        var line = new StringBuilder();
        while (await reader.ReadAsync(cancellationToken))
        {
            line.Clear();
            for (int i = 0; i < names.Count; i++)
            {
                line.Append(Canonical(reader.GetValue(i), table.Columns[names[i]])).Append('\u001f');
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
