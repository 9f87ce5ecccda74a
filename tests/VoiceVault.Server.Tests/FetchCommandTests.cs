using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Twilio.Rest.Api.V2010;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// <c>voicevault fetch</c> as a customer runs it — the real tool in its own process — against the
/// vault as a Twilio-compatible server: accounts and subaccounts, keys rotated, unencrypted and
/// failed recordings, interruption, purge, and a faulty network in between.
/// </summary>
public sealed class FetchCommandTests
{
    private sealed class Estate : IAsyncDisposable
    {
        public required VaultServer Vault { get; init; }
        public required string Keyring { get; init; }
        public required string Out { get; init; }
        public Dictionary<string, (string Account, byte[] Wav)> Originals { get; } = [];
        public string? Failed { get; set; }
        public HashSet<string> Encrypted { get; } = [];

        private Dictionary<string, string?>? _environment;

        /// <summary>The tool's environment: the vault's account and token (tests may change it).</summary>
        public Dictionary<string, string?> Environment => _environment ??= TestProcess.TwilioEnvironment(Vault.AccountSid, Vault.AuthToken);

        public async ValueTask DisposeAsync()
        {
            await Vault.DisposeAsync();
            Directory.Delete(Path.GetDirectoryName(Out)!, recursive: true);
        }
    }

    /// <summary>
    /// <paramref name="count"/> recordings: the main account's encrypted to a first key and, after a
    /// rotation, to a second; subaccount A's to the second (inherited); subaccount B's unencrypted;
    /// and last one failed/16104 in the main account. The keyring holds both private keys.
    /// </summary>
    private static async Task<Estate> EstateAsync(int count, int seconds = 1)
    {
        var vault = await VaultServer.StartAsync();
        var root = Directory.CreateTempSubdirectory("vv-fetch-").FullName;
        var estate = new Estate { Vault = vault, Keyring = Path.Combine(root, "keyring"), Out = Path.Combine(root, "out") };
        var a = await AccountResource.CreateAsync(friendlyName: "A", client: vault.Twilio());
        var b = await AccountResource.CreateAsync(friendlyName: "B", client: vault.Twilio());
        var keyring = Keyring.Open(estate.Keyring, create: true);
        async Task<string> KeyAsync()
        {
            using var rsa = RSA.Create(2048);
            var sid = await vault.AddKeyAsync(rsa);
            keyring.Add(System.Text.Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem()), sid);
            return sid;
        }
        async Task UploadAsync(string account, string token, int n, bool encrypted = true)
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, _) =>
            {
                var wav = Audio.Wav(seconds);
                var (status, body) = await vault.UploadAsync(account, token, Audio.CallSid(), wav);
                Assert.Equal(HttpStatusCode.Created, status);
                Assert.Equal("completed", body.GetProperty("status").GetString());
                lock (estate.Originals)
                {
                    estate.Originals[body.GetProperty("sid").GetString()!] = (account, wav);
                    if (encrypted)
                    {
                        estate.Encrypted.Add(body.GetProperty("sid").GetString()!);
                    }
                }
            });
        }
        int quarter = (count - 1) / 4;
        var first = await KeyAsync();
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, first);
        await UploadAsync(vault.AccountSid, vault.AuthToken, quarter);
        var second = await KeyAsync();
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, second);
        await UploadAsync(vault.AccountSid, vault.AuthToken, quarter);
        await UploadAsync(a.Sid, a.AuthToken, quarter);
        await vault.SetEncryptionAsync(b.Sid, enabled: false);
        await UploadAsync(b.Sid, b.AuthToken, count - 1 - 3 * quarter, encrypted: false);
        // The last: encryption on with no key left anywhere → failed/16104, no media.
        foreach (var sid in new[] { first, second })
        {
            await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.DeleteAsync(pathSid: sid, client: vault.Twilio());
        }
        var (_, failed) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1));
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        estate.Failed = failed.GetProperty("sid").GetString();
        return estate;
    }

    /// <summary>Runs fetch with --json: its exit code, the summary it printed on stdout, and what it said on stderr.</summary>
    private static async Task<(int Exit, string Output)> FetchAsync(Estate estate, string baseUrl, params string[] extra)
    {
        var (exit, stdout, stderr) = await TestProcess.RunSeparatelyAsync("dotnet", FetchArgs(estate, baseUrl, ["--json", .. extra]), estate.Environment);
        return (exit, stdout + "\n" + stderr);
    }

    private static string[] FetchArgs(Estate estate, string baseUrl, string[] extra) =>
        [TestProcess.Voicevault, "fetch", "--base-url", baseUrl, "--out", estate.Out, "--keyring", estate.Keyring, "--subaccounts", .. extra];

    /// <summary>The --json summary: stdout holds it alone, and it comes first in the output.</summary>
    private static JsonElement Summary(string output)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(output));
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>Every output file is a verified original in its place; no temporary or partial file is left anywhere.</summary>
    private static void AssertOutputs(Estate estate, IEnumerable<string> expected)
    {
        var wavs = Directory.EnumerateFiles(estate.Out, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(wavs, f => Path.GetFileName(f).StartsWith('.'));
        var found = wavs.Where(f => f.EndsWith(".wav", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Order(StringComparer.Ordinal), found.Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal));
        foreach (var file in found)
        {
            var sid = Path.GetFileNameWithoutExtension(file);
            var (account, wav) = estate.Originals[sid];
            Assert.Equal(Path.Combine(estate.Out, account, DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), sid + ".wav"), file);
            Assert.True(wav.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"{sid}.wav differs from what was recorded");
            var details = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(file, ".json"))).RootElement;
            Assert.Equal(sid, details.GetProperty("sid").GetString());
        }
    }

    [Fact]
    public async Task Fetch_gets_every_recording_of_an_account_and_its_subaccounts_verified_and_a_second_run_fetches_nothing()
    {
        await using var estate = await EstateAsync(200);
        var (exit, output) = await FetchAsync(estate, estate.Vault.BaseUri.ToString(), "--jobs", "4");
        Assert.True(exit == 0, output);
        var summary = Summary(output);
        Assert.Equal(199, summary.GetProperty("fetched").GetInt32());
        Assert.Equal(1, summary.GetProperty("unavailable").GetInt32());
        Assert.Equal(0, summary.GetProperty("failed").GetInt32());
        Assert.Equal(3, summary.GetProperty("accounts").GetArrayLength());
        var unavailable = summary.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("status").GetString() == "unavailable");
        Assert.Equal(estate.Failed, unavailable.GetProperty("recording").GetString());
        Assert.Contains("16104", unavailable.GetProperty("error").GetString(), StringComparison.Ordinal);
        AssertOutputs(estate, estate.Originals.Keys);

        var again = await FetchAsync(estate, estate.Vault.BaseUri.ToString());
        Assert.True(again.Exit == 0, again.Output);
        var second = Summary(again.Output);
        Assert.Equal(0, second.GetProperty("fetched").GetInt32());
        Assert.Equal(199, second.GetProperty("skipped").GetInt32());
        Assert.Equal(0, second.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Filters_an_api_key_and_no_decrypt_fetch_what_they_say()
    {
        await using var estate = await EstateAsync(9);
        var one = estate.Encrypted.First();
        using var http = estate.Vault.Http(estate.Vault.AccountSid, estate.Vault.AuthToken);
        var call = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{estate.Vault.AccountSid}/Recordings/{one}.json")).RootElement.GetProperty("call_sid").GetString()!;
        var key = await Twilio.Rest.Api.V2010.Account.NewKeyResource.CreateAsync(friendlyName: "fetch", client: estate.Vault.Twilio());
        // An API key instead of the auth token; one call only; ciphertext kept, verified with the keyring.
        estate.Environment["TWILIO_API_KEY"] = key.Sid;
        estate.Environment["TWILIO_API_SECRET"] = key.Secret;
        estate.Environment["TWILIO_AUTH_TOKEN"] = null;
        var (exit, output) = await FetchAsync(estate, estate.Vault.BaseUri.ToString(), "--call-sid", call, "--no-decrypt");
        Assert.True(exit == 0, output);
        Assert.Equal(1, Summary(output).GetProperty("fetched").GetInt32());
        var enc = Assert.Single(Directory.EnumerateFiles(estate.Out, "*.enc", SearchOption.AllDirectories));
        Assert.Equal(one + ".enc", Path.GetFileName(enc));
        Assert.Empty(Directory.EnumerateFiles(estate.Out, "*.wav", SearchOption.AllDirectories));
        Assert.Equal(await http.GetByteArrayAsync($"/2010-04-01/Accounts/{estate.Vault.AccountSid}/Recordings/{one}"), File.ReadAllBytes(enc));
        // Dates: nothing after tomorrow, everything up to today.
        var tomorrow = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var today = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        (exit, output) = await FetchAsync(estate, estate.Vault.BaseUri.ToString(), "--since", tomorrow);
        Assert.True(exit == 0, output);
        Assert.Equal(0, Summary(output).GetProperty("results").GetArrayLength());
        (exit, output) = await FetchAsync(estate, estate.Vault.BaseUri.ToString(), "--until", today, "--since", today);
        Assert.True(exit == 0, output);
        Assert.Equal(8, Summary(output).GetProperty("fetched").GetInt32());
        // Bad input says what was wrong.
        (exit, output) = await FetchAsync(estate, estate.Vault.BaseUri.ToString(), "--since", "yesterday");
        Assert.Equal(1, exit);
        Assert.Contains("--since 'yesterday' is not a date", output, StringComparison.Ordinal);
        estate.Environment["TWILIO_API_SECRET"] = "wrong";
        (exit, output) = await FetchAsync(estate, estate.Vault.BaseUri.ToString());
        Assert.Equal(1, exit);
        Assert.Contains("HTTP 401", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fetch_killed_midway_finishes_on_the_next_run_and_delete_after_purges_only_what_verified()
    {
        await using var estate = await EstateAsync(41, seconds: 20);
        using (var process = TestProcess.Start("dotnet", FetchArgs(estate, estate.Vault.BaseUri.ToString(), ["--jobs", "2"]), estate.Environment))
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            await Eventually.TrueAsync(() => Directory.Exists(estate.Out)
                && Directory.EnumerateFiles(estate.Out, "*.wav", SearchOption.AllDirectories).Count() >= 8, "fetch wrote 8 recordings", TimeSpan.FromSeconds(60));
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        int before = Directory.EnumerateFiles(estate.Out, "*.wav", SearchOption.AllDirectories).Count();
        Assert.True(before < 40, $"the fetch finished ({before} files) before it could be killed");
        // What a kill in the middle of a write leaves (unverified output under a temporary name),
        // whether or not this kill happened to: the next run removes it.
        var stale = Path.Combine(Path.GetDirectoryName(Directory.EnumerateFiles(estate.Out, "*.wav", SearchOption.AllDirectories).First())!,
            $".{estate.Originals.Keys.First()}.wav.0123456789ab.partial");
        File.WriteAllBytes(stale, new byte[1000]);

        var (exit, output) = await FetchAsync(estate, estate.Vault.BaseUri.ToString(), "--delete-after");
        Assert.True(exit == 0, output);
        var summary = Summary(output);
        Assert.Equal(40, summary.GetProperty("fetched").GetInt32() + summary.GetProperty("skipped").GetInt32());
        Assert.Equal(40, summary.GetProperty("deleted_at_source").GetInt32());
        AssertOutputs(estate, estate.Originals.Keys);
        // The source keeps only what was not verified here: the failed recording.
        using var http = estate.Vault.Http(estate.Vault.AccountSid, estate.Vault.AuthToken);
        var left = new List<string>();
        foreach (var account in await AccountResource.ReadAsync(client: estate.Vault.Twilio()))
        {
            var list = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{account.Sid}/Recordings.json")).RootElement;
            left.AddRange(list.GetProperty("recordings").EnumerateArray().Select(r => r.GetProperty("sid").GetString()!));
        }
        Assert.Equal([estate.Failed!], left);
    }

    [Fact]
    public async Task Through_429s_503s_dropped_connections_and_flipped_bytes_fetch_ends_verified_or_with_a_clear_error()
    {
        await using var estate = await EstateAsync(13, seconds: 5);
        // An encrypted one: its tag catches the flip (an unencrypted recording has no tag to check).
        var poisoned = estate.Encrypted.Order(StringComparer.Ordinal).First();
        await using var proxy = await FaultyProxy.StartAsync(estate.Vault.BaseUri, poisoned, estate.Encrypted);
        var (exit, output) = await FetchAsync(estate, proxy.Url);
        // One recording is always corrupted on the way: it fails, clearly; every other one verifies.
        Assert.Equal(1, exit);
        var summary = Summary(output);
        Assert.Equal(11, summary.GetProperty("fetched").GetInt32());
        var failure = summary.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("status").GetString() == "failed");
        Assert.Equal(poisoned, failure.GetProperty("recording").GetString());
        Assert.Contains("authentication", failure.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        AssertOutputs(estate, estate.Originals.Keys.Where(k => k != poisoned));
        Assert.True(proxy.Injected["429"] > 0 && proxy.Injected["503"] > 0 && proxy.Injected["drop"] > 0 && proxy.Injected["flip"] > 0,
            string.Join(", ", proxy.Injected.Select(p => $"{p.Key}={p.Value}")));
        // Dropped bodies were resumed where they broke off, not fetched again; Retry-After was honoured.
        Assert.True(proxy.Resumed >= proxy.Injected["drop"], $"{proxy.Resumed} resumed of {proxy.Injected["drop"]} dropped\n" + string.Join("\n", proxy.Log.Take(30)));
        Assert.True(proxy.ShortestWaitAfter429 >= TimeSpan.FromSeconds(0.95), $"a request came {proxy.ShortestWaitAfter429.TotalSeconds:0.00} s after Retry-After: 1");
    }

    /// <summary>
    /// A reverse proxy on loopback in front of the vault that misbehaves: each media URL's first
    /// request gets 429 with Retry-After, its second a 503, its third half the body and a dropped
    /// connection, its fourth (if encrypted) one flipped byte; then the truth. One recording is
    /// flipped every time.
    /// List requests get a 429 and a 503 now and then too.
    /// </summary>
    private sealed class FaultyProxy : IAsyncDisposable
    {
        private LocalServer? _server;
        private readonly Dictionary<string, int> _seen = [];

        public Dictionary<string, int> Injected { get; } = new() { ["429"] = 0, ["503"] = 0, ["drop"] = 0, ["flip"] = 0 };

        /// <summary>Media requests that asked for the rest of a file (Range from a non-zero offset).</summary>
        public int Resumed;

        public List<string> Log { get; } = [];

        /// <summary>The shortest time between a 429 (Retry-After: 1) and the next request for the same URL.</summary>
        public TimeSpan ShortestWaitAfter429 { get; private set; } = TimeSpan.MaxValue;

        private readonly Dictionary<string, long> _retryAfterSent = [];

        public string Url => _server!.Url;

        public static async Task<FaultyProxy> StartAsync(Uri vault, string poisoned, IReadOnlySet<string> encrypted)
        {
            var proxy = new FaultyProxy();
            var http = new HttpClient { BaseAddress = vault };
            proxy._server = await TestHttp.ServeAsync(async context =>
            {
                var path = context.Request.Path.Value! + context.Request.QueryString;
                bool media = context.Request.Path.Value!.Contains("/Recordings/RE", StringComparison.Ordinal) && !path.Contains(".json", StringComparison.Ordinal);
                int n;
                lock (proxy._seen)
                {
                    n = proxy._seen[path] = proxy._seen.GetValueOrDefault(path) + 1;
                    if (proxy._retryAfterSent.Remove(path, out var sent))
                    {
                        var waited = Stopwatch.GetElapsedTime(sent);
                        proxy.ShortestWaitAfter429 = waited < proxy.ShortestWaitAfter429 ? waited : proxy.ShortestWaitAfter429;
                    }
                    if (media && context.Request.Headers.Range.ToString() is { Length: > 0 } range && !range.StartsWith("bytes=0-", StringComparison.Ordinal))
                    {
                        proxy.Resumed++;
                    }
                }
                string? fault = media ? n switch { 1 => "429", 2 => "503", 3 => "drop", 4 => "flip", _ => null } : n % 7 == 1 ? "429" : n % 7 == 2 ? "503" : null;
                if (media && context.Request.Path.Value!.EndsWith(poisoned, StringComparison.Ordinal) && n > 2)
                {
                    fault = "flip";
                }
                // An unencrypted recording has no tag: a flipped byte in it is TLS's to stop, not the tool's.
                if (fault == "flip" && !encrypted.Contains(context.Request.Path.Value![^34..]))
                {
                    fault = null;
                }
                lock (proxy._seen)
                {
                    proxy.Log.Add($"{n} {path} range={context.Request.Headers.Range} fault={fault}");
                }
                if (fault is "429" or "503")
                {
                    lock (proxy.Injected)
                    {
                        proxy.Injected[fault]++;
                    }
                    context.Response.StatusCode = fault == "429" ? 429 : 503;
                    if (fault == "429")
                    {
                        context.Response.Headers.RetryAfter = "1";
                        lock (proxy._seen)
                        {
                            proxy._retryAfterSent[path] = Stopwatch.GetTimestamp();
                        }
                    }
                    return;
                }
                using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), path);
                request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
                if (context.Request.Headers.Range.Count > 0)
                {
                    request.Headers.TryAddWithoutValidation("Range", context.Request.Headers.Range.ToString());
                }
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsByteArrayAsync();
                context.Response.StatusCode = (int)response.StatusCode;
                foreach (var header in response.Content.Headers.Where(h => h.Key is "Content-Type" or "Content-Range"))
                {
                    context.Response.Headers[header.Key] = header.Value.ToArray();
                }
                if (fault == "drop" && body.Length > 2)
                {
                    lock (proxy.Injected)
                    {
                        proxy.Injected["drop"]++;
                    }
                    // Straight onto the socket, past Kestrel: the head and half the body, then FIN, as
                    // a peer that goes away does. (Kestrel's flush returns before its transport has
                    // sent, and an abort resets the connection, discarding what the client had not
                    // read yet.) A blocking send returns once the kernel holds the bytes; the FIN
                    // goes after them.
                    var head = $"HTTP/1.1 {(int)response.StatusCode} {response.ReasonPhrase}\r\nContent-Length: {body.Length}\r\n" +
                        string.Concat(response.Content.Headers.Where(h => h.Key is "Content-Type" or "Content-Range").Select(h => $"{h.Key}: {string.Join(",", h.Value)}\r\n")) +
                        "Connection: close\r\n\r\n";
                    var socket = context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()!.Socket;
                    socket.Send(System.Text.Encoding.ASCII.GetBytes(head));
                    socket.Send(body.AsSpan(0, body.Length / 2));
                    socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                    context.Abort();
                    return;
                }
                if (fault == "flip" && body.Length > 100)
                {
                    lock (proxy.Injected)
                    {
                        proxy.Injected["flip"]++;
                    }
                    body[body.Length / 3] ^= 0x40;
                }
                context.Response.ContentLength = body.Length;
                await context.Response.Body.WriteAsync(body);
            });
            return proxy;
        }

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }
}
