using System.Net;
using System.Text;
using Twilio.Rest.Api.V2010.Account;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// What the vault writes to its log while callbacks succeed, fail and are refused, and while
/// someone guesses passwords: every line is searched for the secrets the test used — the account's
/// token, the wrong passwords, the callback URL's credentials and query, every recording's CEK —
/// and routine failures must be one line each, without a stack trace.
/// </summary>
public sealed class LogHygieneTests
{
    [Fact]
    public async Task Callback_scenarios_and_wrong_passwords_leave_no_secret_and_no_stack_trace_in_the_log()
    {
        int calls = 0;
        await using var ok = await TestHttp.ServeAsync(context =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref calls) == 1 ? 500 : 204;
            return Task.CompletedTask;
        });
        int closedPort = TestHttp.FreePort();
        await using var vault = await VaultServer.StartAsync(extraArgs: ["--VoiceVault:Webhooks:AllowedNetworks", "127.0.0.1/32"]);
        var (key, _) = await vault.EnableEncryptionAsync();
        const string hookPassword = "Hook-Pass-8b1f";
        var hooks = new[]
        {
            ok.Url.Replace("http://", $"http://hooker:{hookPassword}@", StringComparison.Ordinal) + "/hook?signature-secret=Query-Secret-77", // 500, then delivered
            $"http://127.0.0.1:{closedPort}/hook?x=Query-Secret-77",   // connection refused
            "http://no-such-host.invalid/hook?x=Query-Secret-77",     // DNS failure
            $"http://{Dns.GetHostName()}:{closedPort}/hook",          // resolves outside the allowed network, or nowhere to connect
        };
        var recordings = new List<string>();
        foreach (var hook in hooks)
        {
            var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1), "RecordingStatusCallback=" + Uri.EscapeDataString(hook));
            Assert.Equal(HttpStatusCode.Created, status);
            recordings.Add(body.GetProperty("sid").GetString()!);
        }
        var (refusedStatus, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1),
            "RecordingStatusCallback=" + Uri.EscapeDataString($"http://hooker:{hookPassword}@127.0.0.2/hook?x=Query-Secret-77"));
        Assert.Equal(HttpStatusCode.BadRequest, refusedStatus);
        var wrongPasswords = Enumerable.Range(0, 5).Select(i => $"Wrong-Guess-{i}-c0ffee").ToList();
        foreach (var guess in wrongPasswords)
        {
            using var http = vault.Http(vault.AccountSid, guess);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json")).StatusCode);
        }
        await Eventually.TrueAsync(() => calls >= 2, "the first callback delivered after its failure");
        await Eventually.TrueAsync(async () => (await NotificationResource.ReadAsync(client: vault.Twilio())).Count(n => n.ErrorCode == "11200") >= hooks.Length,
            "a notification for each failed callback");

        var secrets = new List<string> { vault.AuthToken, hookPassword, "Query-Secret-77", "RecordingStatusCallback=" };
        secrets.AddRange(wrongPasswords);
        using (var http = vault.Http(vault.AccountSid, vault.AuthToken))
        {
            foreach (var sid in recordings)
            {
                var details = EncryptionDetails.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{sid}.json"));
                using var cek = KeyWrap.Unwrap(key, details.EncryptedCek);
                secrets.Add(Convert.ToHexStringLower(cek.Bytes));
                secrets.Add(Convert.ToHexString(cek.Bytes));
                secrets.Add(Convert.ToBase64String(cek.Bytes));
            }
        }
        var lines = vault.Logs.ToList();
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            foreach (var secret in secrets)
            {
                Assert.False(line.Contains(secret, StringComparison.Ordinal), $"a log line carries a secret ({secret[..Math.Min(6, secret.Length)]}…): {line}");
            }
        }
        // Routine failures: one line each, no stack trace; HttpClient's own request lines silent.
        var failures = lines.Where(l => l.Contains("Callback of", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count >= hooks.Length, string.Join("\n", lines));
        Assert.All(failures, l => Assert.DoesNotContain("   at ", l, StringComparison.Ordinal));
        Assert.Contains(failures, l => l.Contains("could not connect: Connection refused", StringComparison.Ordinal));
        Assert.Contains(failures, l => l.Contains("no-such-host.invalid", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("System.Net.Http.HttpClient", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("Information Microsoft.AspNetCore.Hosting", StringComparison.Ordinal));
    }
}
