using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Cli;

/// <summary>
/// A Twilio-compatible REST API (api.twilio.com or a vault) as the toolkit talks to it: Basic
/// credentials from Twilio's environment variables, JSON pages followed by their
/// <c>next_page_uri</c>, and every request retried on 429 (after its <c>Retry-After</c>), on 5xx
/// and on a dropped connection, with exponential backoff.
/// </summary>
internal sealed class TwilioApi : IDisposable
{
    private readonly HttpClient _http;

    public TwilioApi(Uri baseUrl, string user, string secret, string accountSid, HttpMessageHandler? handler = null)
    {
        BaseUrl = baseUrl;
        AccountSid = accountSid;
        // Redirects are followed (Twilio sends media to its storage), and HttpClient drops the
        // Authorization header when a redirect leaves the host.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = baseUrl,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}")));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("voicevault", "0.1"));
    }

    public Uri BaseUrl { get; }

    /// <summary>The account the credentials act as.</summary>
    public string AccountSid { get; }

    /// <summary>Most attempts per request; the waits between them grow from 0.5 s to 30 s.</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>
    /// Twilio's conventions (docs/api.md §10): TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN, or TWILIO_API_KEY +
    /// TWILIO_API_SECRET with TWILIO_ACCOUNT_SID naming the account.
    /// </summary>
    public static TwilioApi FromEnvironment(string baseUrl)
    {
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            throw new CliException($"--base-url '{baseUrl}' is not an http(s) URL", "e.g. https://api.twilio.com or http://127.0.0.1:5080");
        }
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var account = Env("TWILIO_ACCOUNT_SID");
        var key = Env("TWILIO_API_KEY");
        if (key is not null)
        {
            var secret = Env("TWILIO_API_SECRET") ?? throw new CliException("TWILIO_API_KEY is set but TWILIO_API_SECRET is not", "export the API key's secret as TWILIO_API_SECRET");
            return new TwilioApi(uri, key, secret, account ?? throw new CliException("with an API key, TWILIO_ACCOUNT_SID must name the account", "export TWILIO_ACCOUNT_SID=AC…"));
        }
        if (account is null || Env("TWILIO_AUTH_TOKEN") is not { } token)
        {
            throw new CliException("no credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY, TWILIO_API_SECRET and TWILIO_ACCOUNT_SID)",
                "credentials come from the environment only, never from the command line");
        }
        return new TwilioApi(uri, account, token, account);
    }

    /// <summary>The credentials' account, then (with <paramref name="subaccounts"/>) every subaccount of it.</summary>
    public async Task<List<string>> AccountsAsync(bool subaccounts, CancellationToken cancellationToken)
    {
        var accounts = new List<string> { AccountSid };
        if (subaccounts)
        {
            await foreach (var account in ListAsync("/2010-04-01/Accounts.json?PageSize=1000", "accounts", cancellationToken))
            {
                if (account.GetProperty("sid").GetString() is { } sid && sid != AccountSid)
                {
                    accounts.Add(sid);
                }
            }
        }
        return accounts;
    }

    /// <summary>Every item under <paramref name="key"/> of a list, page after page.</summary>
    public async IAsyncEnumerable<JsonElement> ListAsync(string path, string key, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? next = path;
        while (next is not null)
        {
            using var page = await GetJsonAsync(next, cancellationToken);
            if (!page.RootElement.TryGetProperty(key, out var items) || items.ValueKind != JsonValueKind.Array)
            {
                throw new CliException($"{next}: the answer has no \"{key}\" list", "is --base-url a Twilio-compatible API?");
            }
            foreach (var item in items.EnumerateArray())
            {
                yield return item.Clone();
            }
            next = page.RootElement.TryGetProperty("next_page_uri", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        }
    }

    public async Task<JsonDocument> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseContentRead, cancellationToken);
        await EnsureSuccessAsync(response, path, cancellationToken);
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
    }

    /// <summary>A POST of form fields; the answer's JSON.</summary>
    public async Task<JsonDocument> PostAsync(string path, IReadOnlyDictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) },
            HttpCompletionOption.ResponseContentRead, cancellationToken);
        await EnsureSuccessAsync(response, path, cancellationToken);
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
    }

    /// <summary>A GET whose body is read as a stream (media), from byte <paramref name="from"/> if given, after the same retries as every request.</summary>
    public async Task<HttpResponseMessage> OpenAsync(string path, long? from, CancellationToken cancellationToken)
    {
        var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (from is > 0)
            {
                request.Headers.Range = new RangeHeaderValue(from, null);
            }
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            await EnsureSuccessAsync(response, path, cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>DELETE; true when deleted (204/200), false when already gone (404).</summary>
    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, path), HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        await EnsureSuccessAsync(response, path, cancellationToken);
        return true;
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                using var message = request();
                response = await _http.SendAsync(message, completion, cancellationToken);
            }
            catch (HttpRequestException) when (attempt < MaxAttempts)
            {
                await Task.Delay(Backoff(attempt), cancellationToken);
                continue;
            }
            catch (HttpRequestException e)
            {
                throw new CliException($"{BaseUrl}: {e.Message} (after {attempt} attempts)", "check --base-url and the network");
            }
            int status = (int)response.StatusCode;
            if ((status == 429 || status >= 500) && attempt < MaxAttempts)
            {
                var wait = status == 429 && RetryAfter(response) is { } after ? after : Backoff(attempt);
                response.Dispose();
                await Task.Delay(wait, cancellationToken);
                continue;
            }
            return response;
        }
    }

    /// <summary>Retry-After as seconds or an HTTP date, capped at five minutes.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is { } w ? TimeSpan.FromTicks(Math.Clamp(w.Ticks, 0, TimeSpan.FromMinutes(5).Ticks)) : null;
    }

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(30_000, 500 * Math.Pow(2, attempt - 1)) * (0.75 + Random.Shared.NextDouble() * 0.5));

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        string detail = "";
        try
        {
            using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (error.RootElement.TryGetProperty("message", out var m))
            {
                detail = $": {m.GetString()}" + (error.RootElement.TryGetProperty("code", out var c) ? $" (code {c})" : "");
            }
        }
        catch (JsonException)
        {
            // Not Twilio's error JSON: the status says enough.
        }
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key and secret)",
            HttpStatusCode.Forbidden => "the credentials may not do this; an API key may lack the permission",
            HttpStatusCode.NotFound => "check the account SID and --base-url",
            _ => null,
        };
        throw new CliException($"{path}: HTTP {(int)response.StatusCode}{detail}", hint);
    }

    public static string Query(params (string Name, string? Value)[] parameters) =>
        string.Join("&", parameters.Where(p => p.Value is not null).Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value!)}"));

    public static DateTimeOffset? Date(JsonElement item, string name) =>
        item.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
            ? date
            : null;

    public void Dispose() => _http.Dispose();
}

/// <summary>Twilio's SIDs: two upper-case letters and 32 lower-case hex digits (docs/api.md §3).</summary>
internal static class Sids
{
    public static bool Is(string value, string prefix) =>
        value.Length == 34 && value.StartsWith(prefix, StringComparison.Ordinal) && value.AsSpan(2).IndexOfAnyExcept("0123456789abcdef") < 0;
}
