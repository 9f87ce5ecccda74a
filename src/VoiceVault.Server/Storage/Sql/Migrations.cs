using System.Data.Common;
using System.Globalization;
using Dapper;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

/// <summary>One schema change: <c>NNNN_name.sql</c> under a backend's <c>Migrations</c> folder.</summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Versioned, forward-only migrations: numbered SQL files per backend, embedded in the server, and
/// a <c>schema_migrations</c> table that records each one applied. Applying takes the backend's
/// write lock first (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so instances that
/// start together apply each migration once. A database newer than this server is refused.
/// </summary>
public static class Migrations
{
    /// <summary>The migrations of one backend (<c>sqlite</c> or <c>postgres</c>), in order.</summary>
    public static IReadOnlyList<Migration> Of(string backend)
    {
        var assembly = typeof(Migrations).Assembly;
        var prefix = backend + "/";
        var found = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var file = resource[prefix.Length..^".sql".Length];
            int underscore = file.IndexOf('_', StringComparison.Ordinal);
            var version = int.Parse(file[..underscore], NumberStyles.None, CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            found.Add(new Migration(version, file[(underscore + 1)..], reader.ReadToEnd()));
        }
        found.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (int i = 0; i < found.Count; i++)
        {
            if (found[i].Version != i + 1)
            {
                throw new InvalidOperationException($"The {backend} migrations are not numbered 1, 2, 3…: {found[i].Version} is at place {i + 1}.");
            }
        }
        return found;
    }

    /// <summary>
    /// Applies what <paramref name="db"/> lacks of <paramref name="migrations"/> inside one transaction
    /// begun by <paramref name="begin"/> (which must take the backend's write lock) and returns the
    /// versions applied. <paramref name="versionTable"/> creates the version table if missing.
    /// </summary>
    public static async Task<IReadOnlyList<int>> ApplyAsync(DbConnection db, Func<DbConnection, Task<DbTransaction>> begin, string versionTable,
        IReadOnlyList<Migration> migrations, DateTimeOffset now, string backend)
    {
        await using var tx = await begin(db);
        await SqlRows.ExecuteAsync(db, versionTable, null, tx);
        int current = await db.ExecuteScalarAsync<int?>("SELECT MAX(version) FROM schema_migrations", transaction: tx) ?? 0;
        if (current > migrations.Count)
        {
            throw new Core.StartupException($"The {backend} database is at schema version {current}, newer than this VoiceVault knows ({migrations.Count})",
                "run the newer VoiceVault (migrations only go forward)");
        }
        var applied = new List<int>();
        foreach (var migration in migrations.Where(m => m.Version > current))
        {
            await SqlRows.ExecuteAsync(db, migration.Sql, null, tx);
            await SqlRows.ExecuteAsync(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @now)",
                new { migration.Version, migration.Name, now }, tx);
            applied.Add(migration.Version);
        }
        await tx.CommitAsync();
        return applied;
    }

    /// <summary>The version a database is at (0 when it has none).</summary>
    public static async Task<int> VersionAsync(DbConnection db)
    {
        try
        {
            return await db.ExecuteScalarAsync<int?>("SELECT MAX(version) FROM schema_migrations") ?? 0;
        }
        catch (DbException)
        {
            return 0;
        }
    }
}
