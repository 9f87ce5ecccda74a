// The floor for "receive and store": each PUT body goes to a new file, is fsynced, and answered 201.
// No auth, no encryption, no metadata — what the vault's upload path is measured against.
// No config file watcher: it would watch the content root, data folder included, as in the vault.
var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 8L << 30);
var app = builder.Build();
var dir = Path.GetFullPath(app.Configuration["Dir"] ?? "bare-data");
Directory.CreateDirectory(dir);
app.MapPut("/v1/Ingest/Calls/{callSid}/Recording", async (string callSid, HttpContext context) =>
{
    var path = Path.Combine(dir, Guid.NewGuid().ToString("N"));
    await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
    {
        await context.Request.Body.CopyToAsync(file, 64 * 1024);
        file.Flush(flushToDisk: true);
    }
    return Results.Json(new { sid = Path.GetFileName(path), status = "completed" }, statusCode: 201);
});
app.Run();
