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
}
