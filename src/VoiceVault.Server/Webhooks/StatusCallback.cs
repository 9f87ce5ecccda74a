using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using VoiceVault.Server.Api;
using VoiceVault.Server.Recordings;

namespace VoiceVault.Server.Webhooks;

/// <summary>
/// Recording status callbacks (SPEC §8): the parameters, the outbox row written in the same
/// transaction as the state change, and Twilio's request signature.
/// </summary>
/// <summary>One callback in the outbox, as claimed for delivery.</summary>
public sealed record OutboxRow(long Seq, string AccountSid, string RecordingSid, string Url, string Method, string Payload, long Attempts, string NextAttemptAt, string DateCreated)
{
    /// <summary>When this instance committed the row (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), for rows it sends itself.</summary>
    public long CommittedAt { get; init; }
}

public static class StatusCallback
{
    public static readonly string[] Events = ["in-progress", "completed", "absent", "failed"];

    /// <summary>
    /// Queues the callback for <paramref name="recording"/>'s current status, if it subscribed to
    /// it. The row is born leased to this instance: after the commit, hand it to
    /// <see cref="CallbackDispatcher.Send"/>; if this process dies first, the lease runs out and any
    /// instance delivers it.
    /// </summary>
    public static async Task<OutboxRow?> QueueAsync(DbConnection db, DbTransaction tx, Recording recording, VaultOptions options, DateTimeOffset now)
    {
        if (recording.CallbackUrl is null || !recording.CallbackEvents.Split(' ').Contains(recording.Status))
        {
            return null;
        }
        var parameters = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["AccountSid"] = recording.AccountSid,
            ["CallSid"] = recording.CallSid,
            ["RecordingSid"] = recording.Sid,
            ["RecordingUrl"] = options.PublicBaseUrl.TrimEnd('/') + recording.Uri,
            ["RecordingStatus"] = recording.Status,
            ["RecordingDuration"] = recording.Duration?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "0",
            ["RecordingChannels"] = recording.Channels.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RecordingStartTime"] = Dates.Rfc2822(Dates.Parse(recording.StartTime)),
            ["RecordingSource"] = recording.Source,
            ["RecordingTrack"] = recording.Track,
            ["ErrorCode"] = recording.ErrorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "0",
        };
        if (recording.Status == "completed" && recording.Details is { } details)
        {
            parameters["EncryptionDetails"] = details.ToCallbackJson();
        }
        var payload = Encode(parameters);
        var lease = Dates.Stored(now + CallbackDispatcher.Lease);
        long seq = await db.ExecuteScalarAsync<long>(
            "INSERT INTO outbox (account_sid, recording_sid, url, method, payload, next_attempt_at, date_created) VALUES (@account, @recording, @url, @method, @payload, @lease, @now) RETURNING seq",
            new { account = recording.AccountSid, recording = recording.Sid, url = recording.CallbackUrl, method = recording.CallbackMethod, payload, lease, now = Dates.Stored(now) }, tx);
        return new OutboxRow(seq, recording.AccountSid, recording.Sid, recording.CallbackUrl, recording.CallbackMethod, payload, 0, lease, Dates.Stored(now));
    }

    public static string Encode(IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join('&', parameters.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));

    public static List<KeyValuePair<string, string>> Decode(string payload) =>
        payload.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            return new KeyValuePair<string, string>(Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..]));
        }).ToList();

    /// <summary>
    /// X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + every POST parameter's name and value,
    /// sorted by name)). For GET the parameters are already in the URL.
    /// </summary>
    public static string Sign(string authToken, string url, IEnumerable<KeyValuePair<string, string>> postParameters)
    {
        var data = new StringBuilder(url);
        foreach (var (name, value) in postParameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            data.Append(name).Append(value);
        }
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }
}
