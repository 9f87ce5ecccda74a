using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Notifications;

/// <summary><c>/2010-04-01/Accounts/{AccountSid}/Notifications[/{Sid}].json</c>, newest first.</summary>
public static class NotificationEndpoints
{
    public static void MapNotificationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/2010-04-01/Accounts/{sid}/Notifications.json", ListAsync).WithTags("Notifications");
        app.MapGet("/2010-04-01/Accounts/{sid}/Notifications/{notificationSid}.json", FetchAsync).WithTags("Notifications");
    }

    /// <summary>Log: 0 for errors, 1 for warnings (Twilio's levels).</summary>
    public sealed record LogQuery([FromQuery(Name = "Log")] string? Log)
    {
        public NotificationLevel? Level => Log switch
        {
            null => null,
            "0" => NotificationLevel.Error,
            "1" => NotificationLevel.Warning,
            _ => throw ApiException.BadParameter("Log must be 0 (errors) or 1 (warnings)", 20001),
        };
    }

    private static async Task<Ok<NotificationList>> ListAsync(string sid, [AsParameters] LogQuery query, [AsParameters] PageQuery paging, HttpContext context,
        AccountDirectory accounts, INotificationStore notifications)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var level = query.Level;
        var request = paging.Request();
        var rows = await notifications.PageAsync(account.Sid, level, request.Cursor);
        var page = Page<Notification>.Of(rows, n => n.Seq, request, descending: true);
        return TypedResults.Ok(page.ToV2010(new NotificationList(page.Items.Select(Json).ToList()), $"/2010-04-01/Accounts/{account.Sid}/Notifications.json"));
    }

    private static async Task<Ok<NotificationResource>> FetchAsync(string sid, string notificationSid, HttpContext context, AccountDirectory accounts,
        INotificationStore notifications)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var row = await notifications.FindAsync(account.Sid, notificationSid);
        return TypedResults.Ok(Json(row ?? throw ApiException.NotFound($"/Notifications/{notificationSid}")));
    }

    private static NotificationResource Json(Notification notification)
    {
        var date = Dates.Rfc2822(notification.DateCreated);
        var code = notification.ErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new NotificationResource(notification.AccountSid, "2010-04-01", notification.CallSid, date, date, code,
            ((int)notification.Log).ToString(System.Globalization.CultureInfo.InvariantCulture), date, notification.MessageText,
            $"https://www.twilio.com/docs/errors/{code}", notification.RequestMethod, notification.RequestUrl ?? "", "", "", "", notification.Sid,
            $"/2010-04-01/Accounts/{notification.AccountSid}/Notifications/{notification.Sid}.json");
    }
}
