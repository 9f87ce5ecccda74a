using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Server.Core;

/// <summary>
/// Twilio's request signature, <c>X-Twilio-Signature</c>: base64(HMAC-SHA1(auth token, URL + every
/// POST parameter's name and value, sorted by name)); for GET the parameters are already in the URL.
/// One class signs the callbacks the vault sends and checks the stream upgrades it receives.
/// </summary>
public static class TwilioSignature
{
    public static string Sign(string authToken, string url, IEnumerable<KeyValuePair<string, string>> postParameters)
    {
        var data = new StringBuilder(url);
        foreach (var (name, value) in postParameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            data.Append(name).Append(value);
        }
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }

    /// <summary>Whether <paramref name="signature"/> is the one <paramref name="authToken"/> makes for this request (constant time).</summary>
    public static bool Verify(string authToken, string url, IEnumerable<KeyValuePair<string, string>> postParameters, string signature) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(authToken, url, postParameters)), Encoding.ASCII.GetBytes(signature));
}
