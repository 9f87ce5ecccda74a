namespace VoiceVault.Server.Storage;

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
    Task<TwilioLink> SetAsync(string accountSid, string twilioAccountSid, byte[] tokenSealed, byte[]? secondaryTokenSealed, DateTimeOffset now);

    /// <summary>Removes the link; false when there was none.</summary>
    Task<bool> DeleteAsync(string accountSid);
}
