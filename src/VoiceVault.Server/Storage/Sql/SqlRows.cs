using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Reflection;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

/// <summary>
/// Reading rows into typed records on both backends. Dapper binds the parameters; rows are read
/// by column name, so one mapping serves SQLite (times as ISO text, integers as 64-bit) and
/// PostgreSQL (timestamptz, integer, boolean, bytea).
/// </summary>
internal static class SqlRows
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    public static async Task<List<T>> ListAsync<T>(DbConnection db, string sql, object? parameters, Func<DbDataReader, T> map, DbTransaction? tx = null, CancellationToken cancellationToken = default)
    {
        await using var reader = await db.ExecuteReaderAsync(new CommandDefinition(sql, Bind(db, parameters), tx, cancellationToken: cancellationToken));
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }
        return rows;
    }

    public static async Task<T?> FirstAsync<T>(DbConnection db, string sql, object? parameters, Func<DbDataReader, T> map, DbTransaction? tx = null, CancellationToken cancellationToken = default)
        where T : class
    {
        await using var reader = await db.ExecuteReaderAsync(new CommandDefinition(sql, Bind(db, parameters), tx, cancellationToken: cancellationToken));
        return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
    }

    /// <summary>Two queries in one command (one round trip), each read into its own list.</summary>
    public static async Task<(List<T1> First, List<T2> Second)> TwoListsAsync<T1, T2>(DbConnection db, string sql, object? parameters,
        Func<DbDataReader, T1> first, Func<DbDataReader, T2> second, CancellationToken cancellationToken = default)
    {
        await using var reader = await db.ExecuteReaderAsync(new CommandDefinition(sql, Bind(db, parameters), cancellationToken: cancellationToken));
        var a = new List<T1>();
        while (await reader.ReadAsync(cancellationToken))
        {
            a.Add(first(reader));
        }
        var b = new List<T2>();
        if (await reader.NextResultAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                b.Add(second(reader));
            }
        }
        return (a, b);
    }

    /// <summary>The one row the statement returns (an INSERT … RETURNING, say).</summary>
    public static async Task<T> OneAsync<T>(DbConnection db, string sql, object? parameters, Func<DbDataReader, T> map, DbTransaction? tx = null, CancellationToken cancellationToken = default)
        where T : class =>
        await FirstAsync(db, sql, parameters, map, tx, cancellationToken) ?? throw new InvalidOperationException("The statement returned no row.");

    public static Task<int> ExecuteAsync(DbConnection db, string sql, object? parameters, DbTransaction? tx = null, CancellationToken cancellationToken = default) =>
        db.ExecuteAsync(new CommandDefinition(sql, Bind(db, parameters), tx, cancellationToken: cancellationToken));

    public static Task<T?> ScalarAsync<T>(DbConnection db, string sql, object? parameters, DbTransaction? tx = null, CancellationToken cancellationToken = default) =>
        db.ExecuteScalarAsync<T>(new CommandDefinition(sql, Bind(db, parameters), tx, cancellationToken: cancellationToken));

    /// <summary>
    /// An SQL list of parameters for <c>IN</c>, one per value. Written out rather than left to
    /// Dapper, which expands a list for SQLite but sends PostgreSQL one array parameter.
    /// </summary>
    public static string In<T>(Dictionary<string, object?> parameters, string name, IEnumerable<T> values)
    {
        var names = new List<string>();
        foreach (var value in values)
        {
            var parameter = name + names.Count.ToString(CultureInfo.InvariantCulture);
            parameters[parameter] = value;
            names.Add("@" + parameter);
        }
        return names.Count == 0 ? "(NULL)" : "(" + string.Join(", ", names) + ")";
    }

    // The parameters as the backend keeps them: times as ISO text for SQLite (so comparisons in SQL
    // are text comparisons, as the rows hold them) and as UTC timestamptz for PostgreSQL, both to
    // the millisecond; a null keeps its type (PostgreSQL cannot always infer one).
    private static DynamicParameters Bind(DbConnection db, object? values)
    {
        var bound = new DynamicParameters();
        if (values is null)
        {
            return bound;
        }
        bool sqlite = db is SqliteConnection;
        if (values is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var (name, value) in pairs)
            {
                bound.Add(name, Convert(value, sqlite));
            }
            return bound;
        }
        foreach (var property in Properties.GetOrAdd(values.GetType(), type => type.GetProperties()))
        {
            var value = property.GetValue(values);
            bound.Add(property.Name, Convert(value, sqlite), value is null ? NullType(property.PropertyType) : null);
        }
        return bound;
    }

    private static object? Convert(object? value, bool sqlite) => value switch
    {
        DateTimeOffset time when sqlite => SqliteText(time),
        DateTimeOffset time => Stored(time),
        _ => value,
    };

    private static DbType? NullType(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(string) => DbType.String,
        var t when t == typeof(byte[]) => DbType.Binary,
        var t when t == typeof(int) => DbType.Int32,
        var t when t == typeof(long) => DbType.Int64,
        var t when t == typeof(bool) => DbType.Boolean,
        var t when t == typeof(DateTimeOffset) => DbType.DateTimeOffset,
        _ => null,
    };

    public static string Text(this DbDataReader row, string name) => row.GetString(row.GetOrdinal(name));

    public static string? TextOrNull(this DbDataReader row, string name) => row.IsDBNull(row.GetOrdinal(name)) ? null : row.GetString(row.GetOrdinal(name));

    public static int Int(this DbDataReader row, string name) => row.GetInt32(row.GetOrdinal(name));

    public static int? IntOrNull(this DbDataReader row, string name) => row.IsDBNull(row.GetOrdinal(name)) ? null : row.GetInt32(row.GetOrdinal(name));

    public static long Long(this DbDataReader row, string name) => row.GetInt64(row.GetOrdinal(name));

    public static long? LongOrNull(this DbDataReader row, string name) => row.IsDBNull(row.GetOrdinal(name)) ? null : row.GetInt64(row.GetOrdinal(name));

    public static bool Bool(this DbDataReader row, string name) => row.GetBoolean(row.GetOrdinal(name));

    public static byte[] Bytes(this DbDataReader row, string name) => (byte[])row.GetValue(row.GetOrdinal(name));

    public static byte[]? BytesOrNull(this DbDataReader row, string name) => row.IsDBNull(row.GetOrdinal(name)) ? null : (byte[])row.GetValue(row.GetOrdinal(name));

    public static DateTimeOffset Time(this DbDataReader row, string name) => row.GetFieldValue<DateTimeOffset>(row.GetOrdinal(name)).ToUniversalTime();

    public static DateTimeOffset? TimeOrNull(this DbDataReader row, string name) => row.IsDBNull(row.GetOrdinal(name)) ? null : row.Time(name);

    /// <summary>A time as both backends keep it: UTC, whole milliseconds (SQLite's text form has no more).</summary>
    public static DateTimeOffset Stored(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerMillisecond));
    }

    /// <summary>SQLite's form of a time: sortable ISO 8601 text.</summary>
    public static string SqliteText(DateTimeOffset value) => Stored(value).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
