namespace VoiceVault.Server.Core;

/// <summary>
/// How statuses and sources are spelled, in the database and on the wire alike (Twilio's words):
/// one place, so an enum value and its text cannot drift apart. The recording statuses are one
/// table (<see cref="RecordingStatuses"/>) that everything else reads: the text and parsing here,
/// the SQL lists of <c>SqlRecordingStore</c>, the callback events, the API's error messages and
/// OpenAPI enum (which the console reads), and the databases' CHECKs (tested against it).
/// </summary>
public static class Spelling
{
    /// <summary>Every recording status and its word, in the order of a recording's life.</summary>
    public static readonly IReadOnlyList<(RecordingStatus Status, string Text)> RecordingStatuses =
    [
        (RecordingStatus.Processing, "processing"),
        (RecordingStatus.InProgress, "in-progress"),
        (RecordingStatus.Paused, "paused"),
        (RecordingStatus.Completed, "completed"),
        (RecordingStatus.Absent, "absent"),
        (RecordingStatus.Failed, "failed"),
    ];

    /// <summary>The statuses of a recording still being stored or recorded.</summary>
    public static readonly IReadOnlyList<RecordingStatus> Unfinished = [RecordingStatus.Processing, RecordingStatus.InProgress, RecordingStatus.Paused];

    /// <summary>The statuses a status callback can be asked for (Twilio's <c>RecordingStatusCallbackEvent</c>).</summary>
    public static readonly IReadOnlyList<RecordingStatus> CallbackEvents = [RecordingStatus.InProgress, RecordingStatus.Completed, RecordingStatus.Absent, RecordingStatus.Failed];

    private static readonly Dictionary<string, RecordingStatus> StatusByText = RecordingStatuses.ToDictionary(s => s.Text, s => s.Status, StringComparer.Ordinal);

    public static string Text(this RecordingStatus status) =>
        RecordingStatuses.FirstOrDefault(s => s.Status == status).Text ?? throw new ArgumentOutOfRangeException(nameof(status), status, null);

    public static bool IsUnfinished(this RecordingStatus status) => Unfinished.Contains(status);

    public static RecordingStatus? TryParseRecordingStatus(string text) => StatusByText.TryGetValue(text, out var status) ? status : null;

    public static RecordingStatus ParseRecordingStatus(string text) =>
        TryParseRecordingStatus(text) ?? throw new FormatException($"'{text}' is not a recording status.");

    /// <summary>The words of <paramref name="statuses"/> as prose: "a, b or c" (<paramref name="last"/> joins the last two).</summary>
    public static string Words(IEnumerable<RecordingStatus> statuses, string last = "or")
    {
        var words = statuses.Select(s => s.Text()).ToList();
        return words.Count == 1 ? words[0] : string.Join(", ", words[..^1]) + $" {last} " + words[^1];
    }

    /// <summary>The words of <paramref name="statuses"/> as an SQL list: ('a', 'b').</summary>
    public static string SqlList(IEnumerable<RecordingStatus> statuses) => "(" + string.Join(", ", statuses.Select(s => $"'{s.Text()}'")) + ")";

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

    public static string Text(this ApiKeyRole role) => role switch
    {
        ApiKeyRole.Full => "full",
        ApiKeyRole.Auditor => "auditor",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    /// <summary>An API key's role as the API and the database spell it; null when it is none.</summary>
    public static ApiKeyRole? TryParseApiKeyRole(string? text) => text switch
    {
        "full" => ApiKeyRole.Full,
        "auditor" => ApiKeyRole.Auditor,
        _ => null,
    };

    public static ApiKeyRole ParseApiKeyRole(string text) => TryParseApiKeyRole(text) ?? throw new FormatException($"'{text}' is not an API key role.");

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
