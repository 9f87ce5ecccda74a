using System.Globalization;
using System.Net.Http.Headers;
using VoiceVault.Crypto;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Recordings;

/// <summary>
/// Recording resources and media (docs/api.md §7): account- and call-scoped lists and fetches, media with
/// HTTP Range, DELETE that removes the bytes, and 16109 for MP3 of an encrypted recording.
/// </summary>
public static class RecordingEndpoints
{
    public static void MapRecordingEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/2010-04-01/Accounts/{sid}/Recordings.json", ListAsync).WithTags("Recordings").AllowAuditors();
        app.MapGet("/2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json", ListOfCallAsync).WithTags("Recordings").AllowAuditors();

        app.MapGet("/2010-04-01/Accounts/{sid}/Recordings/{file}", (string sid, string file, HttpContext context, [AsParameters] Reading reading) =>
            GetAsync(sid, null, file, context, reading)).WithTags("Recordings").AllowAuditors();
        app.MapGet("/2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}", (string sid, string callSid, string file, HttpContext context, [AsParameters] Reading reading) =>
            GetAsync(sid, callSid, file, context, reading)).WithTags("Recordings").AllowAuditors();

        app.MapDelete("/2010-04-01/Accounts/{sid}/Recordings/{file}", (string sid, string file, HttpContext context, AccountDirectory accounts, IRecordingStore recordings, RecordingLifecycle lifecycle, IMediaStore media) =>
            DeleteAsync(sid, null, file, context, accounts, recordings, lifecycle, media)).WithTags("Recordings");
        app.MapDelete("/2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}", (string sid, string callSid, string file, HttpContext context, AccountDirectory accounts, IRecordingStore recordings, RecordingLifecycle lifecycle, IMediaStore media) =>
            DeleteAsync(sid, callSid, file, context, accounts, recordings, lifecycle, media)).WithTags("Recordings");
    }

    /// <summary>Twilio's creation-date filters: a day, or a bound on either side (a date alone includes its whole day).</summary>
    public sealed record DateFilter(
        [FromQuery(Name = "DateCreated")] string? On,
        [FromQuery(Name = "DateCreated<")] string? Before,
        [FromQuery(Name = "DateCreated>")] string? After)
    {
        public (DateTimeOffset? From, DateTimeOffset? Until) Range()
        {
            DateTimeOffset? from = null, until = null;
            if (On is not null)
            {
                var day = ParseDate(On, "DateCreated");
                (from, until) = (day.Date, day.Date.AddDays(1).AddTicks(-1));
            }
            if (After is not null)
            {
                from = ParseDate(After, "DateCreated>");
            }
            if (Before is not null)
            {
                var value = ParseDate(Before, "DateCreated<");
                until = Before.Length == 10 ? value.AddDays(1).AddTicks(-1) : value;
            }
            return (from, until);
        }

        /// <summary>The filters as the page links repeat them.</summary>
        public string Query() => string.Concat(new[] { ("DateCreated", On), ("DateCreated<", Before), ("DateCreated>", After) }
            .Where(p => p.Item2 is not null).Select(p => $"{Uri.EscapeDataString(p.Item1)}={Uri.EscapeDataString(p.Item2!)}&"));
    }

    /// <summary>
    /// Our extensions to the list: <c>Status</c> (one or several, comma-separated: the console's live
    /// calls and filters) and <c>EncryptionPublicKeySid</c> (docs/api.md §7a: recordings whose current
    /// wrap is to that key).
    /// </summary>
    public sealed record RecordingFilters([FromQuery(Name = "Status")] string? Status, [FromQuery(Name = "EncryptionPublicKeySid")] string? EncryptionPublicKeySid)
    {
        public (List<RecordingStatus>? Statuses, string? KeySid) Validate()
        {
            List<RecordingStatus>? statuses = null;
            if (!string.IsNullOrEmpty(Status))
            {
                statuses = [];
                foreach (var text in Status.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    statuses.Add(Spelling.TryParseRecordingStatus(text)
                        ?? throw ApiException.BadParameter($"Status must be {Spelling.Words(Enum.GetValues<RecordingStatus>())} (or several, comma-separated); got '{text}'"));
                }
            }
            string? keySid = string.IsNullOrEmpty(EncryptionPublicKeySid) ? null : EncryptionPublicKeySid;
            if (keySid is not null && !Sid.Is(keySid, "CR"))
            {
                throw ApiException.BadParameter($"EncryptionPublicKeySid must be a public key SID (CR…); got '{keySid}'");
            }
            return (statuses, keySid);
        }
    }

    public sealed record CallFilter([FromQuery(Name = "CallSid")] string? CallSid);

    private static Task<Ok<RecordingList>> ListAsync(string sid, [AsParameters] CallFilter call, [AsParameters] DateFilter dates, [AsParameters] RecordingFilters filters,
        [AsParameters] PageQuery paging, HttpContext context, AccountDirectory accounts, IRecordingStore recordings, VaultOptions options) =>
        PageAsync(sid, string.IsNullOrEmpty(call.CallSid) ? null : call.CallSid, callScoped: false, dates, filters, paging, context, accounts, recordings, options);

    private static Task<Ok<RecordingList>> ListOfCallAsync(string sid, string callSid, [AsParameters] DateFilter dates, [AsParameters] RecordingFilters filters,
        [AsParameters] PageQuery paging, HttpContext context, AccountDirectory accounts, IRecordingStore recordings, VaultOptions options) =>
        PageAsync(sid, callSid, callScoped: true, dates, filters, paging, context, accounts, recordings, options);

    private static async Task<Ok<RecordingList>> PageAsync(string sid, string? callSid, bool callScoped, DateFilter dates, RecordingFilters filters, PageQuery paging,
        HttpContext context, AccountDirectory accounts, IRecordingStore recordings, VaultOptions options)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var (from, until) = dates.Range();
        var (statuses, keySid) = filters.Validate();
        var request = paging.Request();
        var page = Page<Recording>.Of(await recordings.PageAsync(new RecordingFilter(account.Sid, callSid, from, until, statuses, keySid), request.Cursor),
            r => r.Seq, request, descending: true);
        var path = callScoped
            ? $"/2010-04-01/Accounts/{account.Sid}/Calls/{callSid}/Recordings.json"
            : $"/2010-04-01/Accounts/{account.Sid}/Recordings.json";
        // The page links keep the filters, as Twilio's do.
        var extra = (callSid is not null && !callScoped ? $"CallSid={callSid}&" : "") + dates.Query();
        if (keySid is not null)
        {
            extra += $"EncryptionPublicKeySid={keySid}&";
        }
        if (statuses is not null)
        {
            extra += $"Status={Uri.EscapeDataString(string.Join(',', statuses.Select(s => s.Text())))}&";
        }
        return TypedResults.Ok(page.ToV2010(new RecordingList(page.Items.Select(r => RecordingJson.Of(r, options, callScoped)).ToList()), path, extra));
    }

    internal static DateTimeOffset ParseDate(string value, string name) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : throw ApiException.BadParameter($"{name} must be a date (YYYY-MM-DD) or an ISO 8601 time; got '{value}'", 20001);

    private static async Task<Recording> FindAsync(string sid, string? callSid, string recordingSid, HttpContext context, AccountDirectory accounts, IRecordingStore recordings)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var recording = Sid.Is(recordingSid, "RE") ? await recordings.FindAsync(account.Sid, recordingSid) : null;
        if (recording is null || (callSid is not null && recording.CallSid != callSid))
        {
            throw ApiException.NotFound($"/Recordings/{recordingSid}");
        }
        return recording;
    }

    /// <summary>What reading a recording or its media needs.</summary>
    public sealed record Reading(AccountDirectory Accounts, IRecordingStore Recordings, IMediaStore Media, MasterKey MasterKey, VaultOptions Options, AuditTrail Audit);

    private static async Task<IResult> GetAsync(string sid, string? callSid, string file, HttpContext context, Reading reading)
    {
        var (recordingSid, extension) = Split(file);
        // The metadata is an auditor's to read; the media never (whether or not the recording exists).
        if (extension != ".json" && context.IsAuditor())
        {
            throw AuditorAccess.Forbidden("a recording's media");
        }
        var recording = await FindAsync(sid, callSid, recordingSid, context, reading.Accounts, reading.Recordings);
        switch (extension)
        {
            case ".json":
                await reading.Audit.RecordAsync(Audited.Read(recording, context.Actor()));
                return TypedResults.Ok(RecordingJson.Of(recording, reading.Options, callSid is not null));
            case ".mp3":
                throw recording.KeyMode == MediaKeyMode.Customer
                    ? new ApiException(16109, 400, "MP3 is not available for an encrypted recording; request the WAV (the .wav or extension-less media URL)")
                    : new ApiException(20404, 404, "MP3 is not available; request the WAV");
            case "" or ".wav":
                return await MediaAsync(recording, context, reading.Media, reading.MasterKey, reading.Audit);
            default:
                throw ApiException.NotFound($"/Recordings/{file}");
        }
    }

    private static (string Sid, string Extension) Split(string file)
    {
        int dot = file.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? (file, "") : (file[..dot], file[dot..].ToLowerInvariant());
    }

    /// <summary>
    /// Customer-encrypted media is served as stored (the ciphertext), with Range — or, when the
    /// store hands out direct links (S3 with MediaRedirectSeconds), redirected there. Media under the
    /// server-managed key is decrypted on the way out; a whole-file response is authenticated by
    /// its tag (a mismatch aborts the response), a Range response is decrypted from the start and
    /// cut to the range.
    /// </summary>
    private static async Task<IResult> MediaAsync(Recording recording, HttpContext context, IMediaStore media, MasterKey masterKey, AuditTrail audit)
    {
        if (recording.MediaKey is null || recording.MediaSize is null)
        {
            throw ApiException.NotFound($"/Recordings/{recording.Sid} media (status {recording.Status.Text()})");
        }
        bool plain = recording.KeyMode == MediaKeyMode.Server;
        // API clients only: the console's page may connect to its own origin alone (its CSP), so it is relayed.
        if (!plain && context.User.Identity?.AuthenticationType == BasicAuthenticationHandler.SchemeName
            && await media.DirectReadUrlAsync(recording.MediaKey, context.RequestAborted) is { } direct)
        {
            // Ciphertext only: whoever holds the link for its few minutes still needs the private key.
            // The link is a read: its event is durable before the link leaves.
            await audit.RecordAsync(Audited.MediaLink(recording, context.Actor(), direct.Expires));
            context.Response.Headers.CacheControl = "no-store";
            return Results.Redirect(direct.Url.AbsoluteUri);
        }
        long length = plain ? recording.MediaSize.Value - RecordingFormat.TagSize : recording.MediaSize.Value;
        var range = ParseRange(context.Request.Headers.Range.ToString(), length);
        var response = context.Response;
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = plain ? "audio/x-wav" : "application/octet-stream";
        if (range is { Valid: false })
        {
            response.StatusCode = 416;
            response.Headers.ContentRange = $"bytes */{length}";
            return Results.Empty;
        }
        var (offset, count) = range is { } r ? (r.Start, r.Length) : (0L, length);
        if (range is not null)
        {
            response.StatusCode = 206;
            response.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + count - 1, length).ToString();
        }
        // No byte before its event is durable.
        await audit.RecordAsync(Audited.MediaRead(recording, context.Actor(), offset, count, length));
        response.ContentLength = count;
        if (!plain)
        {
            await using var stored = await media.OpenReadAsync(recording.MediaKey, offset, count, context.RequestAborted) ?? throw ApiException.NotFound($"/Recordings/{recording.Sid} media");
            await stored.CopyToAsync(response.Body, 64 * 1024, context.RequestAborted);
            return Results.Empty;
        }
        await using var encrypted = await media.OpenReadAsync(recording.MediaKey, 0, null, context.RequestAborted) ?? throw ApiException.NotFound($"/Recordings/{recording.Sid} media");
        using var cek = ContentKey.FromBytes(masterKey.Open(recording.ServerCekSealed!, recording.Sid));
        var window = new WindowStream(response.Body, offset, count, stopEarly: offset + count < length);
        try
        {
            await RecordingDecryptor.DecryptAsync(encrypted, window, cek, recording.Iv!, context.RequestAborted);
        }
        catch (WindowStream.WindowFilled)
        {
            // The range is out; the rest of the file need not be decrypted.
        }
        catch (AuthenticationFailedException)
        {
            // Stored bytes changed: cut the response so the client cannot mistake it for complete.
            context.Abort();
        }
        return Results.Empty;
    }

    internal sealed record ByteRange(long Start, long Length, bool Valid);

    internal static ByteRange? ParseRange(string header, long length)
    {
        if (string.IsNullOrEmpty(header) || !RangeHeaderValue.TryParse(header, out var parsed) || parsed.Unit != "bytes" || parsed.Ranges.Count != 1)
        {
            return null;
        }
        var item = parsed.Ranges.First();
        long start, end;
        if (item.From is null)
        {
            long suffix = item.To ?? 0;
            if (suffix <= 0)
            {
                return new ByteRange(0, 0, false);
            }
            start = Math.Max(0, length - suffix);
            end = length - 1;
        }
        else
        {
            start = item.From.Value;
            end = Math.Min(item.To ?? length - 1, length - 1);
        }
        return start >= length || start > end ? new ByteRange(0, 0, false) : new ByteRange(start, end - start + 1, true);
    }

    private static async Task<NoContent> DeleteAsync(string sid, string? callSid, string file, HttpContext context, AccountDirectory accounts, IRecordingStore recordings,
        RecordingLifecycle lifecycle, IMediaStore media)
    {
        var (recordingSid, extension) = Split(file);
        if (extension is not ("" or ".json"))
        {
            throw ApiException.NotFound($"/Recordings/{file}");
        }
        var recording = await FindAsync(sid, callSid, recordingSid, context, accounts, recordings);
        await lifecycle.DeleteAsync(recording, media, context.Actor(), DeletionReasons.Request);
        return TypedResults.NoContent();
    }

    /// <summary>Passes through only bytes [offset, offset + count) of what is written to it.</summary>
    private sealed class WindowStream(Stream inner, long offset, long count, bool stopEarly) : Stream
    {
        private long _position;

        public sealed class WindowFilled : Exception;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            long start = Math.Max(offset - _position, 0);
            long end = Math.Min(offset + count - _position, buffer.Length);
            _position += buffer.Length;
            if (end > start)
            {
                await inner.WriteAsync(buffer[(int)start..(int)end], cancellationToken);
            }
            if (stopEarly && _position >= offset + count)
            {
                throw new WindowFilled();
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset1, int count1, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset1, count1), cancellationToken).AsTask();
        public override void Write(byte[] buffer, int offset1, int count1) => throw new NotSupportedException();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset1, int count1) => throw new NotSupportedException();
        public override long Seek(long offset1, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
