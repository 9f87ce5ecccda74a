using System.Security.Cryptography;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Core;

/// <summary>
/// How a new recording will be encrypted (docs/api.md §9): to the configured public key; to the account's
/// most recently added usable key when the configured one is gone or unusable (warning 16107); not
/// at all when the feature is on and no key is usable (the recording fails, 16104); or, when the
/// feature is off, under the server-managed key — so plaintext is on disk in no case.
/// </summary>
public sealed record EncryptionPlan(RSA? PublicKey, string? PublicKeySid, (int Code, string Message)? Warning, string? FailureReason) : IDisposable
{
    public bool CustomerKey => PublicKey is not null;

    public static async Task<EncryptionPlan> ForAsync(string accountSid, string? parentSid, IPublicKeyStore keys)
    {
        var (stored, candidates) = await keys.FindEncryptionAsync(EncryptionSettings.Family(accountSid, parentSid));
        var setting = EncryptionSettings.Effective(accountSid, parentSid, stored);
        if (!setting.Enabled)
        {
            return new EncryptionPlan(null, null, null, null);
        }
        var configured = candidates.FirstOrDefault(k => k.Sid == setting.PublicKeySid);
        if (configured is not null && TryLoad(configured) is { } rsa)
        {
            return new EncryptionPlan(rsa, configured.Sid, null, null);
        }
        // The account's own keys first, newest first; then the parent's it may use.
        foreach (var key in candidates.OrderByDescending(k => k.AccountSid == accountSid).ThenByDescending(k => k.Seq))
        {
            if (key.Sid != setting.PublicKeySid && TryLoad(key) is { } fallback)
            {
                var why = configured is null ? "was deleted" : "is not usable";
                return new EncryptionPlan(fallback, key.Sid,
                    (16107, $"The configured recording encryption key {setting.PublicKeySid} {why}; the recording was encrypted with {key.Sid}, the most recently added usable key."), null);
            }
        }
        return new EncryptionPlan(null, null, null,
            $"Recording encryption is enabled but no usable public key exists (configured: {setting.PublicKeySid ?? "none"}); the recording was not stored.");
    }

    /// <summary>
    /// Stores <paramref name="recording"/>'s media under this plan: a fresh CEK and IV, the plaintext
    /// that <paramref name="writePlaintext"/> writes encrypted into a new object of the media store,
    /// the CEK wrapped to the customer's key or sealed under the master key. The object is committed
    /// only after the tag; on any failure it is deleted and the exception rethrown.
    /// </summary>
    public async Task<StoredMedia> StoreAsync(Recording recording, string mediaKey, IMediaStore media, MasterKey masterKey,
        Func<RecordingEncryptor, Task> writePlaintext, int channels, Func<long, int> durationOfPlaintext, CancellationToken cancellationToken)
    {
        var iv = RecordingFormat.NewIv();
        using var cek = ContentKey.Generate();
        byte[]? wrapped = CustomerKey ? KeyWrap.Wrap(PublicKey!, cek) : null;
        byte[]? sealedCek = CustomerKey ? null : masterKey.Seal(cek.Bytes, recording.Sid);
        long plaintext;
        try
        {
            await using var write = await media.CreateAsync(mediaKey, cancellationToken);
            await using (var encryptor = new RecordingEncryptor(write.Stream, cek, iv, leaveOpen: true))
            {
                await writePlaintext(encryptor);
                await encryptor.CompleteAsync(cancellationToken);
                plaintext = encryptor.PlaintextLength;
            }
            await write.CommitAsync(cancellationToken);
        }
        catch
        {
            try
            {
                await media.DeleteAsync(mediaKey);
            }
            catch (Exception)
            {
                // The store is failing too (why the write failed, often): what is left of the write
                // is never visible, and the instances' sweep of unfinished writes removes it.
            }
            throw;
        }
        return new StoredMedia
        {
            MediaKey = mediaKey,
            MediaSize = plaintext + RecordingFormat.TagSize,
            Channels = channels,
            Duration = durationOfPlaintext(plaintext),
            KeyMode = CustomerKey ? MediaKeyMode.Customer : MediaKeyMode.Server,
            PublicKeySid = PublicKeySid,
            EncryptedCek = wrapped,
            Iv = iv,
            ServerCekSealed = sealedCek,
        };
    }

    private static RSA? TryLoad(PublicKey key)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(key.Spki, out _);
            if (rsa.KeySize < RecordingFormat.MinimumRsaBits)
            {
                rsa.Dispose();
                return null;
            }
            return rsa;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    public void Dispose() => PublicKey?.Dispose();
}
