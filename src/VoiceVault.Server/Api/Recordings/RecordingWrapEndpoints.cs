using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Recordings;

/// <summary>
/// Re-wrapping (docs/api.md §7a, our extension): a customer who rotates keys gives a recording's CEK a
/// new wrap to another public key without the audio being touched. The vault never holds a private
/// key, so it cannot check that the new wrap opens the same CEK — `voicevault rewrap` checks it by
/// the recording's tag before posting — but every earlier wrap is kept, so a bad one loses nothing.
/// </summary>
public static class RecordingWrapEndpoints
{
    public static void MapRecordingWrapEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/Recordings/{sid}/EncryptionDetails").WithTags("Recordings");
        api.MapPost("", AddAsync);
        api.MapGet("", ListAsync).AllowAuditors();
    }

    private static async Task<Recording> InScopeAsync(string sid, HttpContext context, AccountDirectory accounts, IRecordingStore recordings)
    {
        var recording = Sid.Is(sid, "RE") ? await recordings.FindAsync(sid) : null;
        return recording is not null && await context.MayActOnAsync(accounts, recording.AccountSid) ? recording : throw ApiException.NotFound($"/v1/Recordings/{sid}");
    }

    /// <summary>A new wrap: the key it is to, and the CEK wrapped to it (base64 of RSA-OAEP-SHA256).</summary>
    public sealed record WrapForm([FromForm(Name = "PublicKeySid")] string? PublicKeySid, [FromForm(Name = "EncryptedCek")] string? EncryptedCek);

    private static async Task<Created<EncryptionWrapResource>> AddAsync(string sid, [AsParameters] WrapForm form, HttpContext context, AccountDirectory accounts,
        IRecordingStore recordings, IPublicKeyStore keys, RecordingLifecycle lifecycle)
    {
        var recording = await InScopeAsync(sid, context, accounts, recordings);
        if (recording.KeyMode != MediaKeyMode.Customer || recording.EncryptedCek is null)
        {
            throw ApiException.BadParameter($"Recording {sid} is not encrypted to a customer key: there is no CEK wrap to add to", 20001);
        }
        var keySid = form.PublicKeySid ?? "";
        var account = await accounts.FindAsync(recording.AccountSid) ?? throw ApiException.NotFound($"/v1/Recordings/{sid}");
        var key = Sid.Is(keySid, "CR") ? await keys.FindAsync(keySid) : null;
        if (key is null || !key.UsableBy(account))
        {
            throw ApiException.BadParameter($"PublicKeySid '{keySid}' is not a public key of the recording's account or of its parent", 20001);
        }
        byte[] wrapped;
        try
        {
            wrapped = Convert.FromBase64String(form.EncryptedCek ?? "");
        }
        catch (FormatException)
        {
            throw ApiException.BadParameter("EncryptedCek must be the base64 of the CEK wrapped with RSA-OAEP-SHA256 to PublicKeySid", 20001);
        }
        using (var rsa = RSA.Create())
        {
            rsa.ImportSubjectPublicKeyInfo(key.Spki, out _);
            // An RSA-OAEP ciphertext is exactly as long as the key's modulus: anything else cannot be a wrap to it.
            if (wrapped.Length != rsa.KeySize / 8)
            {
                throw ApiException.BadParameter($"EncryptedCek is {wrapped.Length} bytes; a wrap to {keySid} ({rsa.KeySize}-bit RSA) is {rsa.KeySize / 8}", 20001);
            }
        }
        var updated = await lifecycle.AddWrapAsync(recording, key, wrapped, context.Actor()) ?? throw ApiException.NotFound($"/v1/Recordings/{sid}");
        return TypedResults.Created($"/v1/Recordings/{sid}/EncryptionDetails", Json(updated, new RecordingWrap(key.Sid, wrapped, updated.DateUpdated), context));
    }

    private static async Task<Ok<EncryptionWrapList>> ListAsync(string sid, HttpContext context, AccountDirectory accounts, IRecordingStore recordings)
    {
        var recording = await InScopeAsync(sid, context, accounts, recordings);
        var wraps = recording.KeyMode == MediaKeyMode.Customer ? await recordings.ListWrapsAsync(recording, context.RequestAborted) : [];
        var url = $"{context.Request.Scheme}://{context.Request.Host}/v1/Recordings/{sid}/EncryptionDetails";
        return TypedResults.Ok(new EncryptionWrapList(wraps.Select(w => Json(recording, w, context)).ToList(),
            new PageMeta(0, Math.Max(wraps.Count, 1), url, null, null, url, "encryption_details")));
    }

    private static EncryptionWrapResource Json(Recording recording, RecordingWrap wrap, HttpContext context) =>
        new(recording.Sid, recording.AccountSid, "rsa-aes", wrap.PublicKeySid, Convert.ToBase64String(wrap.EncryptedCek), Convert.ToBase64String(recording.Iv!),
            Dates.Iso(wrap.DateCreated), $"{context.Request.Scheme}://{context.Request.Host}/v1/Recordings/{recording.Sid}/EncryptionDetails");
}
