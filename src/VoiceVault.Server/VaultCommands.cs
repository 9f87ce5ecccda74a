using VoiceVault.Server.Core;
using VoiceVault.Server.Storage.Copy;

namespace VoiceVault.Server;

/// <summary>
/// What operators run besides the service, with the service's own configuration (arguments,
/// environment, appsettings):
/// <c>migrate</c> brings the configured database to this version's schema and exits;
/// <c>copy-to-postgres</c> copies the embedded vault in <c>VoiceVault:DataDir</c> into the
/// PostgreSQL database of <c>ConnectionStrings:VoiceVault</c> and verifies every table;
/// <c>copy-media-to-s3 [--dry-run]</c> copies its media files into the bucket of <c>VoiceVault:S3</c>,
/// verifying each object; <c>rotate-audit-key</c> makes a new audit signing key the active one (the
/// old one stays listed, retired, so the checkpoints it signed still verify).
/// </summary>
public static class VaultCommands
{
    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "migrate" or "copy-to-postgres" or "copy-media-to-s3" or "rotate-audit-key";

    public static async Task<int> RunAsync(string[] args)
    {
        bool dryRun = args.Contains("--dry-run");
        var app = VaultApp.Build([.. args[1..].Where(a => a != "--dry-run")]);
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
                case "rotate-audit-key":
                    await app.Services.GetRequiredService<IVaultDatabase>().MigrateAsync();
                    var signer = app.Services.GetRequiredService<AuditSigner>();
                    var before = (await signer.KeysAsync()).FirstOrDefault(k => k.Status == "active");
                    var rotated = await signer.RotateAsync();
                    Console.WriteLine($"The audit signing key is now {rotated.KeyId}" + (before is null ? "." : $"; {before.KeyId} is retired and stays listed.") +
                        " Running instances sign their next checkpoint with it.");
                    return 0;
                case "copy-media-to-s3":
                    if (string.IsNullOrWhiteSpace(options.S3.Bucket))
                    {
                        Console.Error.WriteLine("error: no bucket to copy into\nhint: give --VoiceVault:S3:Bucket NAME (and --VoiceVault:S3:ServiceUrl for a store other than AWS)");
                        return 2;
                    }
                    Console.WriteLine($"{(dryRun ? "Dry run: c" : "C")}opying the media of {options.DataDir} into bucket {options.S3.Bucket}.");
                    var media = await new FilesToS3(options.DataDir, options.S3, Console.Out).RunAsync(dryRun);
                    if (media.Failed > 0)
                    {
                        Console.Error.WriteLine("error: some objects were not copied\nhint: run the copy again; objects already verified are skipped");
                        return 1;
                    }
                    if (!dryRun)
                    {
                        Console.WriteLine("Every object verified. Start the vault with --VoiceVault:Media s3 and the same S3 settings.");
                    }
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
                    if (copied.Verified)
                    {
                        Console.WriteLine($"Every table verified: same rows, same checksums ({copied.Copied.Count} copied, {copied.LeftOut.Count} left out on purpose, as listed). " +
                            "Start the vault with --VoiceVault:Database postgres and the same data folder.");
                        return 0;
                    }
                    Console.Error.WriteLine($"error: {string.Join(", ", copied.Copied.Where(t => !t.Verified).Select(t => t.Table))} differ between SQLite and PostgreSQL\n" +
                        "hint: stop the embedded vault (it is still writing) and run the copy again; it converges on the source");
                    return 1;
            }
        }
        // A setting or dependency the command cannot work with goes to Program, which says it as at start (error:, hint:, exit 2).
        catch (Exception e) when (e is not Core.StartupException && (e is InvalidOperationException or Npgsql.NpgsqlException or Amazon.S3.AmazonS3Exception))
        {
            Console.Error.WriteLine($"error: {Describe(e)}");
            return 1;
        }
    }

    /// <summary>What went wrong, also when the exception carries no message (S3 errors to HEAD requests have no body to take one from).</summary>
    private static string Describe(Exception e) => e switch
    {
        Amazon.S3.AmazonS3Exception s3 when string.IsNullOrWhiteSpace(s3.Message) || s3.Message == s3.ErrorCode =>
            $"the S3 store answered {(int)s3.StatusCode} {s3.StatusCode}{(string.IsNullOrEmpty(s3.ErrorCode) ? "" : $" ({s3.ErrorCode})")}",
        _ when string.IsNullOrWhiteSpace(e.Message) => e.GetType().Name + (e.InnerException is { } inner ? ": " + Describe(inner) : ""),
        _ => e.Message,
    };
}
