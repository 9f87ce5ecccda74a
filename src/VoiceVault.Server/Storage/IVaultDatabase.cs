using System.Data.Common;

namespace VoiceVault.Server.Storage;

/// <summary>
/// The metadata seam: where connections come from. Queries are written in the SQL that SQLite and
/// PostgreSQL share, in the folder of the resource they serve; only the schema and connections
/// differ between the two implementations.
/// </summary>
public interface IVaultDatabase
{
    Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Held around every write transaction. SQLite allows one writer at a time and answers the
    /// others with SQLITE_BUSY, which its driver retries after sleeping; queueing writers in
    /// process instead keeps write latency at the cost of the write itself. PostgreSQL needs no gate.
    /// </summary>
    Task<IAsyncDisposable> WriterAsync(CancellationToken cancellationToken = default);
}
