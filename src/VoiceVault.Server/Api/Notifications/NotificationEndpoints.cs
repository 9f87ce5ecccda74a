using VoiceVault.Server.Api;
using VoiceVault.Server.Core;
using VoiceVault.Server.Storage;

namespace VoiceVault.Server.Api.Notifications;

/// <summary><c>/2010-04-01/Accounts/{AccountSid}/Notifications[/{Sid}].json</c>, newest first.</summary>
public static class NotificationEndpoints
{
    public static void MapNotificationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/2010-04-01/Accounts/{sid}/Notifications.json", async (string sid, HttpContext context, AccountDirectory accounts, INotificationStore notifications) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var query = context.Request.Query;
            NotificationLevel? log = null;
            if (query.TryGetValue("Log", out var l))
            {
                log = l == "0" ? NotificationLevel.Error : l == "1" ? NotificationLevel.Warning : throw ApiException.BadParameter("Log must be 0 (errors) or 1 (warnings)", 20001);
            }
            var request = PageRequest.From(query);
            var rows = await notifications.PageAsync(account.Sid, log, request.Cursor);
            var page = Page<Notification>.Of(rows, n => n.Seq, request, descending: true);
            return Results.Json(page.ToV2010("notifications", $"/2010-04-01/Accounts/{account.Sid}/Notifications.json", page.Items.Select(n => (object)Json(n))));
        }).WithTags("Notifications");

        app.MapGet("/2010-04-01/Accounts/{sid}/Notifications/{notificationSid}.json", async (string sid, string notificationSid, HttpContext context, AccountDirectory accounts,
            INotificationStore notifications) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var row = await notifications.FindAsync(account.Sid, notificationSid);
            return Results.Json(Json(row ?? throw ApiException.NotFound($"/Notifications/{notificationSid}")));
        }).WithTags("Notifications");
    }

    private static Dictionary<string, object?> Json(Notification notification)
    {
        var date = Dates.Rfc2822(notification.DateCreated);
        return new Dictionary<string, object?>
        {
            ["account_sid"] = notification.AccountSid,
            ["api_version"] = "2010-04-01",
            ["call_sid"] = notification.CallSid,
            ["date_created"] = date,
            ["date_updated"] = date,
            ["error_code"] = notification.ErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["log"] = ((int)notification.Log).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["message_date"] = date,
            ["message_text"] = notification.MessageText,
            ["more_info"] = $"https://www.twilio.com/docs/errors/{notification.ErrorCode}",
            ["request_method"] = notification.RequestMethod,
            ["request_url"] = notification.RequestUrl ?? "",
            ["request_variables"] = "",
            ["response_body"] = "",
            ["response_headers"] = "",
            ["sid"] = notification.Sid,
            ["uri"] = $"/2010-04-01/Accounts/{notification.AccountSid}/Notifications/{notification.Sid}.json",
        };
    }
}
