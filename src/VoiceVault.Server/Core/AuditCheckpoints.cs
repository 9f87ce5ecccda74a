using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Core;

/// <summary>An audit signing key as listed (<c>GET /v1/Audit/SigningKeys</c>): its public half only.</summary>
public sealed record AuditSigningKey(string KeyId, string PublicKey, string DateCreated, string Status);

/// <summary>A signing key as kept: the private half sealed under the master key.</summary>
public sealed record StoredSigningKey(AuditSigningKey Key, byte[] PrivateKeySealed);

/// <summary>A signed checkpoint (docs/audit.md): the chain of <see cref="AccountSid"/> reached <see cref="Sequence"/> with <see cref="Hash"/>.</summary>
public sealed record AuditCheckpoint(string Sid, string AccountSid, long Sequence, string Hash, string DateCreated, string KeyId, string Signature);

/// <summary>A checkpoint waiting for the witness (the checkpoints table is its outbox).</summary>
public sealed record WitnessDelivery(AuditCheckpoint Checkpoint, int Attempts);

/// <summary>The arithmetic of checkpoints and signing keys, byte for byte as docs/audit.md gives it.</summary>
public static class AuditSignatures
{
    /// <summary>A signing key's ID: the first 16 hex digits of SHA-256 over its SubjectPublicKeyInfo (DER).</summary>
    public static string KeyIdOf(ReadOnlySpan<byte> spkiDer) => Convert.ToHexStringLower(SHA256.HashData(spkiDer))[..16];

    /// <summary>What a checkpoint's signature covers: the JCS of every field but <c>signature</c> and <c>url</c>.</summary>
    public static string Canonical(AuditCheckpoint c) => Jcs.Object(Fields(c));

    /// <summary>The checkpoint as served, stored and witnessed: its fields, its signature and its URL, in JCS.</summary>
    public static string Document(AuditCheckpoint c)
    {
        var fields = Fields(c);
        fields["signature"] = Jcs.String(c.Signature);
        fields["url"] = Jcs.String(UrlOf(c));
        return Jcs.Object(fields);
    }

    public static string UrlOf(AuditCheckpoint c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return $"/v1/Accounts/{c.AccountSid}/AuditCheckpoints/{c.Sid}";
    }

    private static SortedDictionary<string, string> Fields(AuditCheckpoint c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return new(StringComparer.Ordinal)
        {
            ["account_sid"] = Jcs.String(c.AccountSid),
            ["date_created"] = Jcs.String(c.DateCreated),
            ["hash"] = Jcs.String(c.Hash),
            ["key_id"] = Jcs.String(c.KeyId),
            ["sequence"] = Jcs.Integer(c.Sequence),
            ["sid"] = Jcs.String(c.Sid),
        };
    }
}

/// <summary>
/// The vault's audit signing key (ECDSA P-256): made on first use, its private half sealed under
/// the master key, replaced by <see cref="RotateAsync"/> (the old key stays listed, retired, so
/// checkpoints it signed still verify). Every instance signs with the one active key.
/// </summary>
public sealed class AuditSigner(IAuditStore store, IVaultDatabase database, MasterKey masterKey, TimeProvider clock)
{
    private static string Context(string keyId) => "audit-signing-key:" + keyId;

    /// <summary>Every key, newest first.</summary>
    public async Task<IReadOnlyList<AuditSigningKey>> KeysAsync(CancellationToken cancellationToken = default) =>
        [.. (await store.SigningKeysAsync(null, cancellationToken)).Select(k => k.Key)];

    /// <summary>Makes a new key the active one; the one before it is retired.</summary>
    public async Task<AuditSigningKey> RotateAsync()
    {
        var made = Make();
        await database.WriteAsync(scope => store.AddSigningKeyAsync(scope, made, rotate: true));
        return made.Key;
    }

    /// <summary>
    /// Makes the first key, unless there is one. Instances of a new cluster starting together race
    /// for it: the losers' insert breaks the one-active-key index, and they find the winner's.
    /// </summary>
    public async Task EnsureAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await database.WriteAsync(async scope => (await ActiveAsync(scope)).Dispose());
                return;
            }
            catch (Exception e) when (attempt < 3 && e is not (OperationCanceledException or CryptographicException))
            {
            }
        }
    }

    /// <summary>
    /// The active key, opened for signing (dispose it to wipe it); made now, in the caller's
    /// transaction, if there is none yet (the checkpointer makes the first one at start).
    /// </summary>
    public async Task<ActiveSigningKey> ActiveAsync(WriteScope scope)
    {
        var active = (await store.SigningKeysAsync(scope)).FirstOrDefault(k => k.Key.Status == "active");
        if (active is null)
        {
            active = Make();
            await store.AddSigningKeyAsync(scope, active, rotate: false);
        }
        var pkcs8 = masterKey.Open(active.PrivateKeySealed, Context(active.Key.KeyId));
        try
        {
            var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            return new ActiveSigningKey(active.Key.KeyId, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private StoredSigningKey Make()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var keyId = AuditSignatures.KeyIdOf(spki);
        var pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            return new StoredSigningKey(new AuditSigningKey(keyId, key.ExportSubjectPublicKeyInfoPem(), AuditChain.Date(clock.GetUtcNow()), "active"),
                masterKey.Seal(pkcs8, Context(keyId)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }
}

/// <summary>The active audit signing key, open: signs ECDSA P-256 / SHA-256, DER-encoded.</summary>
public sealed class ActiveSigningKey(string keyId, ECDsa key) : IDisposable
{
    public string KeyId { get; } = keyId;

    /// <summary>The base64 of the DER signature over <paramref name="data"/>.</summary>
    public string Sign(byte[] data) => Convert.ToBase64String(key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

    public void Dispose() => key.Dispose();
}

/// <summary>
/// Signed checkpoints (docs/audit.md): a chain's head — sequence and hash — signed with the audit
/// key, kept in the database, written to the media store (<c>audit/{AccountSid}/{sequence}.json</c>)
/// and, when a witness is configured, queued for it. Made on demand and, for every chain with new
/// events, every <c>CheckpointSeconds</c> (<see cref="AuditCheckpointer"/>).
/// </summary>
public sealed class AuditCheckpoints(IAuditStore store, IVaultDatabase database, AuditSigner signer, IMediaStore media, TimeProvider clock, VaultOptions options)
{
    /// <summary>The media store's key of a checkpoint's copy.</summary>
    public static string MediaKeyOf(AuditCheckpoint c) => $"audit/{c.AccountSid}/{c.Sequence.ToString(CultureInfo.InvariantCulture)}.json";

    /// <summary>
    /// A checkpoint of the chain's head now: the one already made at that sequence if there is
    /// one, else a new one, signed, stored and (with a witness) queued. Null for a chain with no events.
    /// </summary>
    public async Task<AuditCheckpoint?> CreateAsync(string accountSid)
    {
        return await database.WriteAsync(async scope =>
        {
            // The head is locked: events wait the few milliseconds the checkpoint takes, and two
            // instances checkpointing the same chain make one checkpoint, not two.
            var head = await store.HeadAsync(scope, accountSid);
            if (head is not { Sequence: > 0 } h)
            {
                return null;
            }
            if (await store.CheckpointAtAsync(scope, accountSid, h.Sequence) is { } existing)
            {
                return existing;
            }
            using var key = await signer.ActiveAsync(scope);
            var unsigned = new AuditCheckpoint(Sid.New("CP"), accountSid, h.Sequence, h.Hash, AuditChain.Date(clock.GetUtcNow()), key.KeyId, "");
            var checkpoint = unsigned with { Signature = key.Sign(Encoding.UTF8.GetBytes(AuditSignatures.Canonical(unsigned))) };
            await store.AddCheckpointAsync(scope, checkpoint, witnessed: !string.IsNullOrWhiteSpace(options.Audit.WitnessUrl), clock.GetUtcNow());
            // The copy outside the database before the commit: a checkpoint the store cannot take is not made.
            await using (var write = await media.CreateAsync(MediaKeyOf(checkpoint)))
            {
                await write.Stream.WriteAsync(Encoding.UTF8.GetBytes(AuditSignatures.Document(checkpoint)));
                await write.CommitAsync();
            }
            return checkpoint;
        });
    }
}
