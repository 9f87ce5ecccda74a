using System.Data.Common;

namespace VoiceVault.Server.Storage;

/// <summary>
/// The metadata seam: where connections come from and how writes commit. Queries are written in
/// the SQL that SQLite and PostgreSQL share, in the folder of the resource they serve; only the
/// schema, connections and the commit strategy differ between the two implementations.
/// </summary>
public interface IVaultDatabase
{
    /// <summary>A connection for reads.</summary>
    Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="work"/> inside a write transaction and returns once it is committed.
    /// The work does database statements on the connection and transaction it is given and nothing
    /// else (no I/O of its own): an implementation may run it on its own thread and commit several
    /// units together. A unit that throws is rolled back alone and its exception is rethrown here.
    /// <paramref name="committed"/>, if given, runs as soon as the commit is durable, before the
    /// caller resumes — for hand-offs that must not wait for a thread-pool turn; it must not block.
    /// </summary>
    Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, Action<T>? committed = null, CancellationToken cancellationToken = default);
}

public static class VaultDatabaseExtensions
{
    public static Task WriteAsync(this IVaultDatabase database, Func<DbConnection, DbTransaction, Task> work, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (db, tx) =>
        {
            await work(db, tx);
            return true;
        }, null, cancellationToken);
}
