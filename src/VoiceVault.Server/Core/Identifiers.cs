using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace VoiceVault.Server.Core;

/// <summary>Twilio SIDs: two upper-case letters and 32 lower-case hex digits.</summary>
public static partial class Sid
{
    public static string New(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static bool Is(string? value, string prefix) => value is not null && value.StartsWith(prefix, StringComparison.Ordinal) && Pattern().IsMatch(value);

    [GeneratedRegex("^[A-Z]{2}[0-9a-f]{32}$")]
    private static partial Regex Pattern();
}

/// <summary>Date formats: RFC 2822 for /2010-04-01, ISO 8601 UTC for /v1.</summary>
public static class Dates
{
    public static string Rfc2822(DateTimeOffset value) => value.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", System.Globalization.CultureInfo.InvariantCulture);

    public static string Iso(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
