using System.Net.Http.Headers;
using System.Text;

namespace VoiceVault.Server.Tests;

internal static class TestHttp
{
    /// <summary>A plain HTTP client for the vault at <paramref name="baseUri"/>, with Basic credentials when a user is given.</summary>
    public static HttpClient Client(Uri baseUri, string? user = null, string? password = null)
    {
        var http = new HttpClient { BaseAddress = baseUri };
        if (user is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }
        return http;
    }
}
