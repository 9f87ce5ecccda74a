using System.Net.Http.Headers;
using System.Text;

namespace VoiceVault.Server.Webhooks;

/// <summary>
/// A callback URL's credentials (<c>https://user:password@host/…</c>, which Twilio supports) are
/// for the receiver alone: sent as Basic auth, and taken out of everything else — the request line,
/// the signed URL, logs, notifications and API answers.
/// </summary>
public static class CallbackUrl
{
    /// <summary>
    /// The URL without its credentials, otherwise exactly as given: what is requested and signed
    /// (a receiver checks the signature over the URL as it was configured, so it is not re-spelt).
    /// </summary>
    public static string WithoutCredentials(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return url;
        }
        int start = scheme + 3;
        int end = url.IndexOfAny(['/', '?', '#'], start);
        var authority = end < 0 ? url[start..] : url[start..end];
        int at = authority.LastIndexOf('@');
        return at < 0 ? url : url[..start] + authority[(at + 1)..] + (end < 0 ? "" : url[end..]);
    }

    /// <summary>The URL as logs and notifications show it: scheme, host, port and path; no credentials, no query.</summary>
    public static string Shown(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var parsed) && Host(parsed) is { } host
            ? $"{parsed.Scheme}://{host}{(parsed.IsDefaultPort ? "" : ":" + parsed.Port)}{parsed.AbsolutePath}"
            : "(not a URL)";

    /// <summary>
    /// The host as it goes on the wire (punycode for international names); null when it is not a
    /// name IDNA allows — <see cref="Uri.IdnHost"/> throws for those (found by fuzzing).
    /// </summary>
    public static string? Host(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        try
        {
            return url.IdnHost;
        }
        catch (UriFormatException)
        {
            return null;
        }
    }

    /// <summary>Basic credentials from the URL's user info, if it has any.</summary>
    public static AuthenticationHeaderValue? Credentials(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.UserInfo.Length == 0)
        {
            return null;
        }
        int colon = url.UserInfo.IndexOf(':', StringComparison.Ordinal);
        var user = Uri.UnescapeDataString(colon < 0 ? url.UserInfo : url.UserInfo[..colon]);
        var password = colon < 0 ? "" : Uri.UnescapeDataString(url.UserInfo[(colon + 1)..]);
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));
    }
}
