using System.Collections.Concurrent;
using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

/// <summary>
/// <c>voicevault rewrap</c> (docs/api.md §10, §7a): key rotation without touching audio. For every
/// recording of a vault whose newest wrap is to <c>--from</c>, the CEK is unwrapped with the old
/// private key, proven by verifying the recording's tag with it (the media is read, never
/// written anywhere), wrapped to the new public key and posted as the recording's newest wrap.
/// The vault keeps the old wraps; once none is listed under the old key, it can be retired.
/// </summary>
internal static class RewrapCommand
{
    private sealed record Outcome(string Recording, string Account, string Status, string? Error, string? Hint);

    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("DETAILS") { Description = "Local details files to re-wrap in place (each with its media beside it, as decrypt --batch reads them); none: the vault's recordings.", Arity = ArgumentArity.ZeroOrMore };
        var from = new Option<string?>("--from") { Description = "The public key SID (CR…) recordings are wrapped to now (required for a vault; for files, only those wrapped to it)." };
        var toKey = new Option<FileInfo>("--to-public-key") { Description = "The new public key (PEM), already registered with the vault.", Required = true };
        var toSid = new Option<string>("--to-sid") { Description = "The new public key's SID (CR…) at the vault.", Required = true };
        var key = Options.PrivateKey("The old private key");
        var keyring = new Option<DirectoryInfo?>("--keyring") { Description = "A keyring holding the old private key." };
        var baseUrl = new Option<string?>("--base-url") { Description = "The vault (when no DETAILS files are given)." };
        var subaccounts = new Option<bool>("--subaccounts") { Description = "Also every subaccount of the account." };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Recordings re-wrapped at once.", DefaultValueFactory = _ => 4 };
        var passphraseFile = Options.PassphraseFile();
        var quiet = Options.Quiet();
        var json = Options.Json();
        var command = new Command("rewrap", "Re-wrap recordings' content keys from an old key to a new one at a vault (the audio is not touched); credentials from TWILIO_* variables.")
        {
            files, from, toKey, toSid, key, keyring, baseUrl, subaccounts, jobs, passphraseFile, quiet, json,
        };
        command.SetAction(parse => Program.Guard(() =>
        {
            var oldSid = parse.GetValue(from);
            var newSid = parse.GetValue(toSid)!;
            var local = parse.GetValue(files) ?? [];
            foreach (var (value, option) in new[] { (oldSid, "--from"), (newSid, "--to-sid") })
            {
                if (value is not null && !Sids.Is(value, "CR"))
                {
                    throw new CliException($"{option} '{value}' is not a public key SID", "CR followed by 32 hex digits, as the vault listed it");
                }
            }
            if (oldSid == newSid)
            {
                throw new CliException("--from and --to-sid are the same key");
            }
            int workers = parse.GetValue(jobs);
            if (workers is < 1 or > 64)
            {
                throw new CliException($"--jobs {workers}: give 1 to 64");
            }
            using var newKey = KeyFile.LoadPublicKey(Program.ReadInput(parse.GetValue(toKey)!.FullName, "public key file"));
            using var keys = KeyChoice.From(parse.GetValue(key), parse.GetValue(keyring), parse.GetValue(passphraseFile));
            if (local.Length > 0)
            {
                if (parse.GetValue(baseUrl) is not null)
                {
                    throw new CliException("give DETAILS files or --base-url, not both");
                }
                return RewrapFiles.Run(local, keys, oldSid, newKey, newSid, parse.GetValue(quiet), parse.GetValue(json));
            }
            var vault = parse.GetValue(baseUrl) ?? throw new CliException("give the vault (--base-url) or local DETAILS files");
            var fromSid = oldSid ?? throw new CliException("--from CR… is required with a vault: the key whose recordings are to be re-wrapped");
            using var api = TwilioApi.FromEnvironment(vault);
            return RunAsync(api, keys, fromSid, newKey, newSid, parse.GetValue(subaccounts), workers, parse.GetValue(quiet), parse.GetValue(json)).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> RunAsync(TwilioApi api, KeyChoice keys, string oldSid, RSA newKey, string newSid, bool subaccounts, int workers, bool quiet, bool json)
    {
        var cancel = Program.Cancellation;
        var accounts = await api.AccountsAsync(subaccounts, cancel);
        // Listed first, then changed: each re-wrap takes its recording out of this very list.
        var recordings = new List<JsonElement>();
        foreach (var account in accounts)
        {
            await foreach (var recording in api.ListAsync($"/2010-04-01/Accounts/{account}/Recordings.json?{TwilioApi.Query(("PageSize", "1000"), ("EncryptionPublicKeySid", oldSid))}", "recordings", cancel))
            {
                recordings.Add(recording);
            }
        }
        var outcomes = new ConcurrentBag<Outcome>();
        var report = new ItemReport("rewrap", recordings.Count, quiet || json);
        await Parallel.ForEachAsync(recordings, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancel }, async (recording, token) =>
        {
            var outcome = await RewrapOneAsync(api, keys, recording, newKey, newSid, token);
            outcomes.Add(outcome);
            report.Item(outcome.Status == "rewrapped"
                ? $"rewrapped {outcome.Recording}: {oldSid} -> {newSid}"
                : ItemReport.Failure(outcome.Recording, outcome.Error, outcome.Hint), outcome.Status == "failed");
        });
        report.Finish();
        var all = outcomes.OrderBy(o => o.Account, StringComparer.Ordinal).ThenBy(o => o.Recording, StringComparer.Ordinal).ToList();
        int done = all.Count(o => o.Status == "rewrapped"), failed = all.Count(o => o.Status == "failed");
        if (json)
        {
            Console.Out.WriteLine(CliJson.Serialize(new Dictionary<string, object?>
            {
                ["from"] = oldSid,
                ["to"] = newSid,
                ["rewrapped"] = done,
                ["failed"] = failed,
                ["results"] = all.Select(o => new Dictionary<string, object?>
                {
                    ["recording"] = o.Recording, ["account"] = o.Account, ["status"] = o.Status, ["error"] = o.Error, ["hint"] = o.Hint,
                }),
            }));
        }
        if (!quiet)
        {
            Console.Error.WriteLine($"rewrap: {done} re-wrapped from {oldSid} to {newSid}, {failed} failed, in {accounts.Count} account(s)" +
                (failed == 0 ? $"; no recording listed needs {oldSid} any more" : ""));
        }
        return failed == 0 ? 0 : 1;
    }

    private static async Task<Outcome> RewrapOneAsync(TwilioApi api, KeyChoice keys, JsonElement recording, RSA newKey, string newSid, CancellationToken cancellationToken)
    {
        var sid = recording.GetProperty("sid").GetString()!;
        var account = recording.GetProperty("account_sid").GetString()!;
        try
        {
            var details = EncryptionDetails.Parse(recording.GetRawText());
            var (cek, _, _) = keys.Unwrap(details);
            using (cek)
            {
                // The unwrapped key is proven to be this recording's by its tag, before anyone else is given it.
                for (int attempt = 1; ; attempt++)
                {
                    try
                    {
                        await using var media = await ResumableDownload.OpenAsync(api, $"/2010-04-01/Accounts/{account}/Recordings/{sid}", cancellationToken);
                        RecordingDecryptor.Verify(media, cek, details.Iv, null, cancellationToken);
                        break;
                    }
                    catch (IOException) when (attempt < 3)
                    {
                        // Dropped mid-body: read it again.
                    }
                }
                var wrapped = KeyWrap.Wrap(newKey, cek);
                using var answer = await api.PostAsync($"/v1/Recordings/{sid}/EncryptionDetails",
                    new Dictionary<string, string> { ["PublicKeySid"] = newSid, ["EncryptedCek"] = Convert.ToBase64String(wrapped) }, cancellationToken);
                return new Outcome(sid, account, "rewrapped", null, null);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var (message, hint) = Program.Explain(e);
            return new Outcome(sid, account, "failed", message, hint);
        }
    }
}
