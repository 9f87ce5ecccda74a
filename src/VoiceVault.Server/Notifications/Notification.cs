using System.Data.Common;
using Dapper;
using VoiceVault.Server.Accounts;
using VoiceVault.Server.Api;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Notifications;

/// <summary>A notification (Twilio's debugger entry): log 0 = error, 1 = warning.</summary>
public sealed record Notification(long Seq, string Sid, string AccountSid, string? CallSid, long ErrorCode, long Log, string MessageText, string? RequestMethod, string? RequestUrl, string DateCreated)
{
    public const int Error = 0;
    public const int Warning = 1;

    public Dictionary<string, object?> ToJson()
    {
        var date = Dates.Rfc2822(Dates.Parse(DateCreated));
        return new Dictionary<string, object?>
        {
            ["account_sid"] = AccountSid,
            ["api_version"] = "2010-04-01",
            ["call_sid"] = CallSid,
            ["date_created"] = date,
            ["date_updated"] = date,
            ["error_code"] = ErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["log"] = Log.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["message_date"] = date,
            ["message_text"] = MessageText,
            ["more_info"] = $"https://www.twilio.com/docs/errors/{ErrorCode}",
            ["request_method"] = RequestMethod,
            ["request_url"] = RequestUrl ?? "",
            ["request_variables"] = "",
            ["response_body"] = "",
            ["response_headers"] = "",
            ["sid"] = Sid,
            ["uri"] = $"/2010-04-01/Accounts/{AccountSid}/Notifications/{Sid}.json",
        };
    }

    /// <summary>Adds a notification inside the caller's transaction, so it lands with the state change it explains.</summary>
    public static Task AddAsync(DbConnection db, DbTransaction tx, string accountSid, string? callSid, int errorCode, int log, string message, DateTimeOffset now) =>
        db.ExecuteAsync(
            "INSERT INTO notifications (sid, account_sid, call_sid, error_code, log, message_text, date_created) VALUES (@sid, @accountSid, @callSid, @errorCode, @log, @message, @now)",
            new { sid = Api.Sid.New("NO"), accountSid, callSid, errorCode, log, message, now = Dates.Stored(now) }, tx);
}

/// <summary><c>/2010-04-01/Accounts/{AccountSid}/Notifications[/{Sid}].json</c>, newest first.</summary>
public static class NotificationEndpoints
{
    public static void MapNotificationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/2010-04-01/Accounts/{sid}/Notifications.json", async (string sid, HttpContext context, AccountStore accounts, IVaultDatabase database) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var query = context.Request.Query;
            int? log = null;
            if (query.TryGetValue("Log", out var l))
            {
                log = l == "0" ? 0 : l == "1" ? 1 : throw ApiException.BadParameter("Log must be 0 (errors) or 1 (warnings)", 20001);
            }
            var request = PageRequest.From(query);
            await using var db = await database.OpenAsync();
            // Only the rows of this page (plus one, to know whether another follows).
            var rows = (await db.QueryAsync<Notification>($"""
                SELECT * FROM notifications WHERE account_sid = @account AND (@log IS NULL OR log = @log)
                  AND (@after IS NULL OR seq < @after) AND (@before IS NULL OR seq > @before)
                ORDER BY seq {(request.Before is null ? "DESC" : "ASC")} LIMIT @limit
                """, new { account = account.Sid, log, after = request.After, before = request.Before, limit = request.PageSize + 1 })).AsList();
            if (request.Before is not null)
            {
                rows.Reverse();
            }
            var page = Page<Notification>.Of(rows, n => n.Seq, request, descending: true);
            return Results.Json(page.ToV2010("notifications", $"/2010-04-01/Accounts/{account.Sid}/Notifications.json", page.Items.Select(n => (object)n.ToJson())));
        }).WithTags("Notifications");

        app.MapGet("/2010-04-01/Accounts/{sid}/Notifications/{notificationSid}.json", async (string sid, string notificationSid, HttpContext context, AccountStore accounts, IVaultDatabase database) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            await using var db = await database.OpenAsync();
            var row = await db.QuerySingleOrDefaultAsync<Notification>(
                "SELECT * FROM notifications WHERE account_sid = @account AND sid = @notificationSid", new { account = account.Sid, notificationSid });
            return Results.Json((row ?? throw ApiException.NotFound($"/Notifications/{notificationSid}")).ToJson());
        }).WithTags("Notifications");
    }
}
