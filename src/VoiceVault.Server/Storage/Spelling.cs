namespace VoiceVault.Server.Storage;

/// <summary>
/// How statuses and sources are spelled, in the database and on the wire alike (Twilio's words):
/// one place, so an enum value and its text cannot drift apart.
/// </summary>
public static class Spelling
{
    public static string Text(this RecordingStatus status) => status switch
    {
        RecordingStatus.Processing => "processing",
        RecordingStatus.InProgress => "in-progress",
        RecordingStatus.Paused => "paused",
        RecordingStatus.Completed => "completed",
        RecordingStatus.Absent => "absent",
        RecordingStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static RecordingStatus? TryParseRecordingStatus(string text) => text switch
    {
        "processing" => RecordingStatus.Processing,
        "in-progress" => RecordingStatus.InProgress,
        "paused" => RecordingStatus.Paused,
        "completed" => RecordingStatus.Completed,
        "absent" => RecordingStatus.Absent,
        "failed" => RecordingStatus.Failed,
        _ => null,
    };

    public static RecordingStatus ParseRecordingStatus(string text) =>
        TryParseRecordingStatus(text) ?? throw new FormatException($"'{text}' is not a recording status.");

    public static string Text(this AccountStatus status) => status switch
    {
        AccountStatus.Active => "active",
        AccountStatus.Suspended => "suspended",
        AccountStatus.Closed => "closed",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static bool TryParseAccountStatus(string? text, out AccountStatus status)
    {
        (bool ok, status) = text switch
        {
            "active" => (true, AccountStatus.Active),
            "suspended" => (true, AccountStatus.Suspended),
            "closed" => (true, AccountStatus.Closed),
            _ => (false, AccountStatus.Active),
        };
        return ok;
    }

    public static AccountStatus ParseAccountStatus(string text) =>
        TryParseAccountStatus(text, out var status) ? status : throw new FormatException($"'{text}' is not an account status.");

    public static string Text(this RecordingSource source) => source switch
    {
        RecordingSource.StartCallRecordingApi => "StartCallRecordingAPI",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, null),
    };

    public static RecordingSource ParseRecordingSource(string text) => text switch
    {
        "StartCallRecordingAPI" => RecordingSource.StartCallRecordingApi,
        _ => throw new FormatException($"'{text}' is not a recording source."),
    };

    public static string Text(this MediaKeyMode mode) => mode switch
    {
        MediaKeyMode.Customer => "customer",
        MediaKeyMode.Server => "server",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static MediaKeyMode ParseMediaKeyMode(string text) => text switch
    {
        "customer" => MediaKeyMode.Customer,
        "server" => MediaKeyMode.Server,
        _ => throw new FormatException($"'{text}' is not a media key mode."),
    };
}
