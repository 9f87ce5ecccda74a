using System.Text;
using VoiceVault.Crypto;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Api.Credentials;

/// <summary>
/// <c>/v1/Credentials/PublicKeys</c> (Twilio Accounts v1): the keys recordings are encrypted to.
/// The key text is validated and then only its SubjectPublicKeyInfo kept; it is never returned,
/// and text that turns out to be a private key is refused without being stored or logged.
/// </summary>
public static class PublicKeyEndpoints
{
    private const string Path = "/v1/Credentials/PublicKeys";

    public static void MapPublicKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Path).WithTags("Credentials");
        api.MapPost("", CreateAsync);
        api.MapGet("", ListAsync);
        api.MapGet("/{sid}", FetchAsync);
        api.MapPost("/{sid}", UpdateAsync);
        api.MapDelete("/{sid}", DeleteAsync);
    }

    /// <summary>A new key: its PEM, a name, and (our extension) the subaccount it is for.</summary>
    public sealed record CreateForm(
        [FromForm(Name = "PublicKey")] string? PublicKey,
        [FromForm(Name = "FriendlyName")] string? FriendlyName,
        [FromForm(Name = "AccountSid")] string? AccountSid)
    {
        /// <summary>The key's SubjectPublicKeyInfo and fingerprint, and its name; the message never quotes the text.</summary>
        public (byte[] Spki, string Fingerprint, string Name) Validate()
        {
            var name = FormFields.FriendlyName(FriendlyName) ?? "";
            if (string.IsNullOrWhiteSpace(PublicKey))
            {
                throw ApiException.BadParameter("PublicKey is required: the RSA public key as PEM (BEGIN PUBLIC KEY)", 20001);
            }
            try
            {
                using var rsa = KeyFile.LoadPublicKey(Encoding.UTF8.GetBytes(PublicKey));
                return (rsa.ExportSubjectPublicKeyInfo(), KeyFile.Fingerprint(rsa), name);
            }
            catch (KeyFormatException e)
            {
                throw ApiException.BadParameter($"PublicKey is not usable: {e.Message}", 20001);
            }
        }
    }

    /// <summary>AccountSid (our extension, as on create): a parent lists a subaccount's keys.</summary>
    public sealed record ListQuery([FromQuery(Name = "AccountSid")] string? AccountSid);

    public sealed record RenameForm([FromForm(Name = "FriendlyName")] string? FriendlyName);

    private static async Task<Created<PublicKeyResource>> CreateAsync([AsParameters] CreateForm form, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys,
        AuditTrail audit, TimeProvider clock)
    {
        var owner = await OwnerAsync(form.AccountSid, context, accounts);
        var (spki, fingerprint, name) = form.Validate();
        var key = await audit.ChangeAsync(scope => keys.CreateAsync(scope, Sid.New("CR"), owner, name, spki, fingerprint, clock.GetUtcNow()),
            made => Audited.PublicKeyCreated(made, context.Actor()));
        return TypedResults.Created((string?)null, Json(key, context));
    }

    private static async Task<Ok<PublicKeyList>> ListAsync([AsParameters] ListQuery query, [AsParameters] PageQuery paging, HttpContext context, AccountDirectory accounts,
        IPublicKeyStore keys)
    {
        var owner = await OwnerAsync(query.AccountSid, context, accounts);
        var page = Page<PublicKey>.Of(await keys.ListAsync([owner]), k => k.Seq, paging.Request(), descending: false);
        return TypedResults.Ok(new PublicKeyList(page.Items.Select(k => Json(k, context)).ToList(), page.ToV1Meta("credentials", Url(context, ""))));
    }

    private static async Task<Ok<PublicKeyResource>> FetchAsync(string sid, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys) =>
        TypedResults.Ok(Json(await InScopeAsync(sid, context, accounts, keys), context));

    private static async Task<Ok<PublicKeyResource>> UpdateAsync(string sid, [AsParameters] RenameForm form, HttpContext context, AccountDirectory accounts,
        IPublicKeyStore keys, TimeProvider clock)
    {
        var key = await InScopeAsync(sid, context, accounts, keys);
        var name = FormFields.FriendlyName(form.FriendlyName) ?? key.FriendlyName;
        return TypedResults.Ok(Json(await keys.RenameAsync(key.Sid, name, clock.GetUtcNow()) ?? throw ApiException.NotFound($"{Path}/{sid}"), context));
    }

    private static async Task<NoContent> DeleteAsync(string sid, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys, AuditTrail audit)
    {
        var key = await InScopeAsync(sid, context, accounts, keys);
        await audit.ChangeAsync(scope => keys.DeleteAsync(scope, key.Sid), gone => gone ? Audited.PublicKeyDeleted(key, context.Actor()) : null);
        return TypedResults.NoContent();
    }

    /// <summary>The account a key is made for or listed of: the caller's, or one in its scope that it names.</summary>
    private static async Task<string> OwnerAsync(string? accountSid, HttpContext context, AccountDirectory accounts) =>
        string.IsNullOrEmpty(accountSid) ? context.Caller().AccountSid : (await context.AccountInScopeAsync(accounts, accountSid)).Sid;

    /// <summary>The public key, if the caller may see it; otherwise 404, as if it did not exist.</summary>
    private static async Task<PublicKey> InScopeAsync(string sid, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys) =>
        await accounts.KeyInScopeAsync(keys, context.Caller().AccountSid, sid) ?? throw ApiException.NotFound($"{Path}/{sid}");

    private static string Url(HttpContext context, string rest) => $"{context.Request.Scheme}://{context.Request.Host}{Path}{rest}";

    private static PublicKeyResource Json(PublicKey key, HttpContext context) =>
        new(key.Sid, key.AccountSid, key.FriendlyName, Dates.Iso(key.DateCreated), Dates.Iso(key.DateUpdated), Url(context, "/" + key.Sid));
}
