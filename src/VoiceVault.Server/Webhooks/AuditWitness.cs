using System.Net.Http.Headers;
using System.Text;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Webhooks;

/// <summary>
/// The audit witness (docs/audit.md): each checkpoint POSTed as JSON to
/// <c>VoiceVault:Audit:WitnessUrl</c>, signed with the audit key (<c>X-VoiceVault-Signature</c>:
/// base64 of the DER ECDSA P-256 / SHA-256 signature over the body; <c>X-VoiceVault-Key-Id</c>:
/// the key's ID). The witness's address is judged like a callback's, but against its own
/// allow-list (<c>VoiceVault:Audit:WitnessAllowedNetworks</c>), never the tenants' one: the
/// operator's witness on a private network does not open that network to every tenant's callbacks.
/// </summary>
public sealed class AuditWitness(IHttpClientFactory http, AuditSigner signer, IVaultDatabase database, VaultOptions options) : IAuditWitness
{
    public const string AllowedNetworksKey = "VoiceVault:Audit:WitnessAllowedNetworks";
    public const string HttpClientName = "audit-witness";
    public const string SignatureHeader = "X-VoiceVault-Signature";
    public const string KeyIdHeader = "X-VoiceVault-Key-Id";

    public bool Configured => !string.IsNullOrWhiteSpace(options.Audit.WitnessUrl);

    public async Task SendAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(AuditSignatures.Document(checkpoint));
        using var key = await database.WriteAsync(scope => signer.ActiveAsync(scope));
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Audit.WitnessUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(SignatureHeader, key.Sign(body));
        request.Headers.Add(KeyIdHeader, key.KeyId);
        using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the witness answered {(int)response.StatusCode}");
        }
    }
}
