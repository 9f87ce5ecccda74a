// The floor for "receive and store": each PUT body goes to a new file, is fsynced, and answered 201
// — or, with --S3Url and --Bucket, is gathered in memory and PUT as one object into that S3 store
// (what the vault's S3 store does with a recording that fits in one part). No auth, no encryption,
// no metadata — what the vault's upload path is measured against.
// No config file watcher: it would watch the content root, data folder included, as in the vault.
using Amazon.S3;
using Amazon.S3.Model;

var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 8L << 30);
var app = builder.Build();
var s3Url = app.Configuration["S3Url"];
var bucket = app.Configuration["Bucket"] ?? "bare";
if (!string.IsNullOrEmpty(s3Url))
{
    var s3 = new AmazonS3Client(new AmazonS3Config
    {
        ServiceURL = s3Url,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
    });
    try
    {
        await s3.PutBucketAsync(bucket);
    }
    catch (AmazonS3Exception e) when (e.ErrorCode == "BucketAlreadyOwnedByYou")
    {
    }
    app.MapPut("/v1/Ingest/Calls/{callSid}/Recording", async (string callSid, HttpContext context) =>
    {
        var key = Guid.NewGuid().ToString("N");
        using var body = new MemoryStream((int)(context.Request.ContentLength ?? 1 << 20));
        await context.Request.Body.CopyToAsync(body, 64 * 1024);
        body.Position = 0;
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = body, AutoCloseStream = false });
        return Results.Json(new { sid = key, status = "completed" }, statusCode: 201);
    });
}
else
{
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
}
app.Run();
