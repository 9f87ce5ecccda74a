namespace VoiceVault.Server.Core;

public enum NotificationLevel
{
    Error = 0,
    Warning = 1,
}

/// <summary>A notification (Twilio's debugger entry).</summary>
public sealed record Notification(long Seq, string Sid, string AccountSid, string? CallSid, int ErrorCode, NotificationLevel Log, string MessageText,
    string? RequestMethod, string? RequestUrl, DateTimeOffset DateCreated);

public sealed record NewNotification(string AccountSid, string? CallSid, int ErrorCode, NotificationLevel Log, string MessageText);

public interface INotificationStore
{
    /// <summary>Adds a notification inside the caller's transaction, so it lands with the state change it explains.</summary>
    Task<Notification> AddAsync(WriteScope scope, string sid, NewNotification notification, DateTimeOffset now);

    Task<Notification?> FindAsync(string accountSid, string sid, CancellationToken cancellationToken = default);

    /// <summary>One page of an account's notifications, newest first (plus one row, when there is a next page).</summary>
    Task<IReadOnlyList<Notification>> PageAsync(string accountSid, NotificationLevel? log, PageCursor cursor, CancellationToken cancellationToken = default);
}
