using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Server.Core;

/// <summary>
/// A status-callback URL with credentials in it (<c>https://user:password@host/…</c>) is stored
/// sealed with the master key (as tokens are), so the database, its backups and a copy to
/// PostgreSQL hold no receiver's password; URLs without credentials are stored as given. The
/// sealed form travels from the recording to its outbox rows unopened and is opened only by the
/// dispatcher, to send the callback.
/// </summary>
public sealed class CallbackUrlSeal(MasterKey masterKey)
{
    private const string Prefix = "sealed:";

    /// <summary>What is stored for <paramref name="url"/> of an account's recording.</summary>
    public string? Seal(string accountSid, string? url)
    {
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.UserInfo.Length == 0)
        {
            return url;
        }
        return Prefix + Convert.ToBase64String(masterKey.Seal(Encoding.UTF8.GetBytes(url), Context(accountSid)));
    }

    /// <summary>The URL as given, from what was stored (a URL stored before sealing existed is returned as it is).</summary>
    public string Open(string accountSid, string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (!stored.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return stored;
        }
        try
        {
            return Encoding.UTF8.GetString(masterKey.Open(Convert.FromBase64String(stored[Prefix.Length..]), Context(accountSid)));
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            throw new InvalidOperationException("a sealed callback URL does not open with this vault's master key", e);
        }
    }

    private static string Context(string accountSid) => $"{accountSid}/callback-url";
}
