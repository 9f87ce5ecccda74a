using System.Text;
using VoiceVault.Crypto;
using VoiceVault.Server.Api;
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

        api.MapPost("", async (HttpContext context, AccountDirectory accounts, IPublicKeyStore keys, TimeProvider clock) =>
        {
            var form = await context.ReadFormAsync();
            var caller = context.Caller();
            var owner = form.TryGetValue("AccountSid", out var a) && !string.IsNullOrEmpty(a)
                ? (await context.AccountInScopeAsync(accounts, a.ToString())).Sid
                : caller.AccountSid;
            var name = FormFields.FriendlyName(form) ?? "";
            var text = form["PublicKey"].ToString();
            if (string.IsNullOrWhiteSpace(text))
            {
                throw ApiException.BadParameter("PublicKey is required: the RSA public key as PEM (BEGIN PUBLIC KEY)", 20001);
            }
            byte[] spki;
            string fingerprint;
            try
            {
                using var rsa = KeyFile.LoadPublicKey(Encoding.UTF8.GetBytes(text));
                spki = rsa.ExportSubjectPublicKeyInfo();
                fingerprint = KeyFile.Fingerprint(rsa);
            }
            catch (KeyFormatException e)
            {
                // The message names what the text is; it never quotes the text itself.
                throw ApiException.BadParameter($"PublicKey is not usable: {e.Message}", 20001);
            }
            var key = await keys.CreateAsync(Sid.New("CR"), owner, name, spki, fingerprint, clock.GetUtcNow());
            return TypedResults.Created((string?)null, Json(key, context));
        });

        api.MapGet("", async (HttpContext context, AccountDirectory accounts, IPublicKeyStore keys) =>
        {
            // AccountSid (our extension, as on create): a parent lists a subaccount's keys.
            var query = context.Request.Query;
            var owner = query.TryGetValue("AccountSid", out var a) && !string.IsNullOrEmpty(a)
                ? (await context.AccountInScopeAsync(accounts, a.ToString())).Sid
                : context.Caller().AccountSid;
            var page = Page<PublicKey>.Of(await keys.ListAsync([owner]), k => k.Seq, PageRequest.From(query), descending: false);
            return TypedResults.Ok(new PublicKeyList(page.Items.Select(k => Json(k, context)).ToList(), page.ToV1Meta("credentials", Url(context, ""))));
        });

        api.MapGet("/{sid}", async (string sid, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys) =>
            TypedResults.Ok(Json(await InScopeAsync(sid, context, accounts, keys), context)));

        api.MapPost("/{sid}", async (string sid, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys, TimeProvider clock) =>
        {
            var key = await InScopeAsync(sid, context, accounts, keys);
            var name = FormFields.FriendlyName(await context.ReadFormAsync()) ?? key.FriendlyName;
            return TypedResults.Ok(Json(await keys.RenameAsync(key.Sid, name, clock.GetUtcNow()) ?? throw ApiException.NotFound($"{Path}/{sid}"), context));
        });

        api.MapDelete("/{sid}", async (string sid, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys) =>
        {
            var key = await InScopeAsync(sid, context, accounts, keys);
            await keys.DeleteAsync(key.Sid);
            return TypedResults.NoContent();
        });
    }

    /// <summary>The public key, if the caller may see it; otherwise 404, as if it did not exist.</summary>
    internal static async Task<PublicKey> InScopeAsync(string sid, HttpContext context, AccountDirectory accounts, IPublicKeyStore keys)
    {
        var key = Sid.Is(sid, "CR") ? await keys.FindAsync(sid) : null;
        return key is not null && await context.MayActOnAsync(accounts, key.AccountSid) ? key : throw ApiException.NotFound($"{Path}/{sid}");
    }

    private static string Url(HttpContext context, string rest) => $"{context.Request.Scheme}://{context.Request.Host}{Path}{rest}";

    private static PublicKeyResource Json(PublicKey key, HttpContext context) =>
        new(key.Sid, key.AccountSid, key.FriendlyName, Dates.Iso(key.DateCreated), Dates.Iso(key.DateUpdated), Url(context, "/" + key.Sid));
}
