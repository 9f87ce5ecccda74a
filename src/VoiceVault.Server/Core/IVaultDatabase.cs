using System.Data.Common;

namespace VoiceVault.Server.Core;

/// <summary>
/// The metadata backend: where connections come from, how writes commit, and the little SQL that
/// differs between backends. Two implementations: SQLite (embedded default) and PostgreSQL. The
/// stores of every aggregate are written once, in the SQL both accept (<see cref="Sql"/>).
/// </summary>
public interface IVaultDatabase
{
    /// <summary>The backend's name, as in <c>VoiceVault:Database</c>.</summary>
    string Name { get; }

    /// <summary>Brings the schema to this server's version, forward only; returns the versions applied.</summary>
    Task<IReadOnlyList<int>> MigrateAsync();

    /// <summary>A connection for reads.</summary>
    Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="work"/> inside a write transaction and returns once it is committed.
    /// The work does statements through the stores on the scope it is given and nothing else (no
    /// I/O of its own): an implementation may run it on its own thread and commit several units
    /// together. A unit that throws is rolled back alone and its exception is rethrown here.
    /// <paramref name="committed"/>, if given, runs as soon as the commit is durable, before the
    /// caller resumes — for hand-offs that must not wait for a thread-pool turn; it must not block.
    /// </summary>
    Task<T> WriteAsync<T>(Func<WriteScope, Task<T>> work, Action<T>? committed = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether <see cref="WriteAsync{T}"/> already commits the units that arrive together in one
    /// transaction (SQLite's one writer thread): a caller that would group its writes itself gains
    /// nothing by it but another thread hop.
    /// </summary>
    bool GroupsCommits { get; }

    /// <summary>What follows a row-claiming subquery so that concurrent claimers skip each other's rows (PostgreSQL: FOR UPDATE SKIP LOCKED).</summary>
    string SkipLocked { get; }

    /// <summary>What follows a SELECT that locks the rows it reads until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's one writer needs nothing).</summary>
    string ForUpdate { get; }
}

/// <summary>One write transaction, as the stores see it; the core only passes it along.</summary>
public sealed record WriteScope(DbConnection Connection, DbTransaction Transaction);

public static class VaultDatabaseExtensions
{
    public static Task WriteAsync(this IVaultDatabase database, Func<WriteScope, Task> work, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async scope =>
        {
            await work(scope);
            return true;
        }, null, cancellationToken);
}
