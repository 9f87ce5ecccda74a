using VoiceVault.Server.Storage;
using VoiceVault.Server.Storage.Copy;

namespace VoiceVault.Server;

/// <summary>
/// What operators run besides the service, with the service's own configuration (arguments,
/// environment, appsettings):
/// <c>migrate</c> brings the configured database to this version's schema and exits;
/// <c>copy-to-postgres</c> copies the embedded vault in <c>VoiceVault:DataDir</c> into the
/// PostgreSQL database of <c>ConnectionStrings:VoiceVault</c> and verifies every table.
/// </summary>
public static class VaultCommands
{
    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "migrate" or "copy-to-postgres";

    public static async Task<int> RunAsync(string[] args)
    {
        var app = VaultApp.Build(args[1..]);
        var options = app.Services.GetRequiredService<VaultOptions>();
        try
        {
            switch (args[0])
            {
                case "migrate":
                    var database = app.Services.GetRequiredService<IVaultDatabase>();
                    var applied = await database.MigrateAsync();
                    Console.WriteLine(applied.Count == 0
                        ? $"The {database.Name} database is up to date."
                        : $"The {database.Name} database is migrated: applied {string.Join(", ", applied)}.");
                    return 0;
                default:
                    var connection = app.Configuration.GetConnectionString("VoiceVault");
                    if (string.IsNullOrWhiteSpace(connection))
                    {
                        Console.Error.WriteLine("error: no PostgreSQL to copy into\nhint: give --ConnectionStrings:VoiceVault \"Host=…;Username=…;Password=…;Database=…\" (or ConnectionStrings__VoiceVault)");
                        return 2;
                    }
                    Console.WriteLine($"Copying the embedded vault in {options.DataDir} into PostgreSQL (media stays in {Path.Combine(options.DataDir, "media")}).");
                    var copied = await new EmbeddedToPostgres(Path.Combine(options.DataDir, "vault.db"), connection, Console.Out).RunAsync();
                    if (copied.All(t => t.Verified))
                    {
                        Console.WriteLine("Every table verified: same rows, same checksums. Start the vault with --VoiceVault:Database postgres and the same data folder.");
                        return 0;
                    }
                    Console.Error.WriteLine($"error: {string.Join(", ", copied.Where(t => !t.Verified).Select(t => t.Table))} differ between SQLite and PostgreSQL\n" +
                        "hint: stop the embedded vault (it is still writing) and run the copy again; it converges on the source");
                    return 1;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Npgsql.NpgsqlException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
