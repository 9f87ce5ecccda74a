using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Server.Core;

/// <summary>
/// Twilio links: which Twilio account's calls a vault account records. Twilio cannot send Basic
/// credentials when it opens a media stream; it signs the upgrade with its own account's auth token
/// (<c>X-Twilio-Signature</c>), so a stream for a vault account is trusted when that signature
/// verifies with the linked token — primary or secondary, over the stream's public URL — and its
/// <c>start.accountSid</c> is the linked account. Tokens are sealed here, bound to the vault
/// account and the slot, and opened only to check a signature.
/// </summary>
public sealed class TwilioLinks(ITwilioLinkStore links, IVaultDatabase database, INotificationStore notifications, MasterKey masterKey,
    VaultOptions options, TimeProvider clock, AuditTrail audit)
{
    /// <summary>The notification code of a stream refused for naming another Twilio account (Twilio's "403 Forbidden").</summary>
    public const int ForbiddenCode = 20403;

    public Task<TwilioLink?> FindAsync(string accountSid) => links.FindAsync(accountSid);

    /// <summary>Links (or relinks) <paramref name="accountSid"/>; a secondary token of null removes the one stored.</summary>
    public Task<TwilioLink> SetAsync(string accountSid, string twilioAccountSid, string token, string? secondaryToken, Actor actor)
    {
        var (primary, secondary) = (Seal(accountSid, "primary", token), secondaryToken is null ? null : Seal(accountSid, "secondary", secondaryToken));
        return audit.ChangeAsync(scope => links.SetAsync(scope, accountSid, twilioAccountSid, primary, secondary, clock.GetUtcNow()),
            link => Audited.TwilioLinkUpdated(link, actor));
    }

    public Task<bool> DeleteAsync(string accountSid, Actor actor) =>
        audit.ChangeAsync(scope => links.DeleteAsync(scope, accountSid), gone => gone ? Audited.TwilioLinkDeleted(accountSid, actor) : null);

    /// <summary>
    /// The URLs Twilio may have signed for a request to <paramref name="pathAndQuery"/>: the public
    /// base URL with the path, spelled as a WebSocket URL and as an HTTP one (wss:// and https://
    /// under an https base; ws:// and http:// under a plain one) — Twilio does not say which it signs.
    /// </summary>
    public IReadOnlyList<string> PublicUrlsOf(string pathAndQuery)
    {
        var publicBase = new Uri(options.PublicBaseUrl);
        bool secure = publicBase.Scheme == Uri.UriSchemeHttps;
        var rest = publicBase.Authority + publicBase.AbsolutePath.TrimEnd('/') + pathAndQuery;
        return secure ? ["wss://" + rest, "https://" + rest] : ["ws://" + rest, "http://" + rest];
    }

    /// <summary>Whether <paramref name="signature"/> is Twilio's for a request to <paramref name="pathAndQuery"/>, made with either linked token.</summary>
    public bool Verifies(TwilioLink link, string pathAndQuery, string signature)
    {
        var urls = PublicUrlsOf(pathAndQuery);
        foreach (var (slot, sealedToken) in new[] { ("primary", link.TokenSealed), ("secondary", link.SecondaryTokenSealed) })
        {
            if (sealedToken is null)
            {
                continue;
            }
            var token = masterKey.Open(sealedToken, Context(link.AccountSid, slot));
            try
            {
                var text = Encoding.UTF8.GetString(token);
                if (urls.Any(url => TwilioSignature.Verify(text, url, [], signature)))
                {
                    return true;
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(token);
            }
        }
        return false;
    }

    /// <summary>
    /// A signed stream's <c>start</c> named a Twilio account other than the linked one: the stream is
    /// refused and the vault account is told, by a notification that names both.
    /// </summary>
    public Task RefuseStreamAsync(string accountSid, string callSid, string? startedBy, string linked)
    {
        var message = $"A media stream for call {callSid} was refused before any audio was kept: its start message names Twilio account " +
            $"{(string.IsNullOrEmpty(startedBy) ? "(none)" : startedBy)}, but this account is linked to Twilio account {linked}.";
        var now = clock.GetUtcNow();
        return database.WriteAsync(scope =>
            notifications.AddAsync(scope, Sid.New("NO"), new NewNotification(accountSid, callSid, ForbiddenCode, NotificationLevel.Error, message), now));
    }

    private byte[] Seal(string accountSid, string slot, string token) => masterKey.Seal(Encoding.UTF8.GetBytes(token), Context(accountSid, slot));

    private static string Context(string accountSid, string slot) => $"{accountSid}/twilio-link/{slot}";
}

/// <summary>
/// A vault account's link to the Twilio account whose calls it records: Twilio signs the streams it
/// opens with that account's auth token (and, during a rotation, may sign with the secondary one).
/// Both tokens stay sealed under the master key.
/// </summary>
public sealed record TwilioLink(string AccountSid, string TwilioAccountSid, byte[] TokenSealed, byte[]? SecondaryTokenSealed,
    DateTimeOffset DateCreated, DateTimeOffset DateUpdated);

/// <summary>One Twilio link per vault account.</summary>
public interface ITwilioLinkStore
{
    Task<TwilioLink?> FindAsync(string accountSid, CancellationToken cancellationToken = default);

    /// <summary>Creates the account's link or replaces every field of it but its creation date.</summary>
    Task<TwilioLink> SetAsync(WriteScope scope, string accountSid, string twilioAccountSid, byte[] tokenSealed, byte[]? secondaryTokenSealed, DateTimeOffset now);

    /// <summary>Removes the link; false when there was none.</summary>
    Task<bool> DeleteAsync(WriteScope scope, string accountSid);
}
