using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

/// <summary>
/// <c>voicevault fetch</c> (docs/api.md §10): every recording of an account (and its subaccounts) from any
/// Twilio-compatible API, downloaded in parallel, verified, decrypted and written atomically as
/// <c>DIR/AC…/yyyy-mm-dd/RE….wav</c> beside <c>RE….json</c>, in one streamed pass per recording.
/// What is there already is skipped; a dropped download resumes by Range; a killed run leaves only
/// temporary files, removed by the next, which fetches what is missing; <c>--delete-after</c> deletes at the
/// source only what verified here.
/// </summary>
internal static class FetchCommand
{
    internal sealed record Outcome(string Recording, string Account, string Status, long Bytes, string? Output, string? Error, string? Hint, bool DeletedAtSource = false);

    internal sealed record Settings(DirectoryInfo Out, KeyChoice? Keys, bool Decrypt, bool DeleteAfter, bool Sync);

    public static Command Create()
    {
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Where recordings go: DIR/AC…/yyyy-mm-dd/RE….wav and RE….json.", Required = true };
        var key = Options.PrivateKey();
        var keyring = new Option<DirectoryInfo?>("--keyring") { Description = "A keyring directory: private keys filed by public-key SID (for recordings wrapped to several keys)." };
        var baseUrl = new Option<string>("--base-url") { Description = "The API: Twilio, or a VoiceVault.", DefaultValueFactory = _ => "https://api.twilio.com" };
        var subaccounts = new Option<bool>("--subaccounts") { Description = "Also every subaccount of the account." };
        var since = new Option<string?>("--since") { Description = "Only recordings created on or after this date (YYYY-MM-DD, UTC)." };
        var until = new Option<string?>("--until") { Description = "Only recordings created on or before this date (YYYY-MM-DD, UTC)." };
        var callSid = new Option<string?>("--call-sid") { Description = "Only this call's recordings." };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Downloads at once (Twilio allows an account 100 concurrent API requests).", DefaultValueFactory = _ => 4 };
        var deleteAfter = new Option<bool>("--delete-after") { Description = "Delete each recording at the source once its local copy verified (archive and purge)." };
        var noDecrypt = new Option<bool>("--no-decrypt") { Description = "Keep the ciphertext (RE….enc) and its details; decrypt later with decrypt --batch." };
        var sync = new Option<bool>("--sync") { Description = "fsync each file before it is renamed into place." };
        var passphraseFile = Options.PassphraseFile();
        var quiet = Options.Quiet();
        var json = Options.Json();
        var command = new Command("fetch", "Download, verify and decrypt an account's recordings from Twilio or a VoiceVault; credentials from TWILIO_* variables.")
        {
            outDir, key, keyring, baseUrl, subaccounts, since, until, callSid, jobs, deleteAfter, noDecrypt, sync, passphraseFile, quiet, json,
        };
        command.SetAction(parse => Program.Guard(() =>
        {
            bool decrypt = !parse.GetValue(noDecrypt);
            int workers = parse.GetValue(jobs);
            if (workers is < 1 or > 64)
            {
                throw new CliException($"--jobs {workers}: give 1 to 64");
            }
            var filters = (Since: Day(parse.GetValue(since), "--since"), Until: Day(parse.GetValue(until), "--until"), CallSid: parse.GetValue(callSid));
            using var keys = decrypt || parse.GetValue(key) is not null || parse.GetValue(keyring) is not null
                ? KeyChoice.From(parse.GetValue(key), parse.GetValue(keyring), parse.GetValue(passphraseFile))
                : null;
            using var api = TwilioApi.FromEnvironment(parse.GetValue(baseUrl)!);
            var target = parse.GetValue(outDir)!;
            Directory.CreateDirectory(target.FullName);
            AtomicOutput.RemoveStale(target.FullName, "RE");
            var settings = new Settings(target, keys, decrypt, parse.GetValue(deleteAfter), parse.GetValue(sync));
            return RunAsync(api, settings, parse.GetValue(subaccounts), filters, workers, parse.GetValue(quiet), parse.GetValue(json)).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static string? Day(string? value, string option)
    {
        if (value is null)
        {
            return null;
        }
        return DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            ? value
            : throw new CliException($"{option} '{value}' is not a date", "write it as YYYY-MM-DD");
    }

    private static async Task<int> RunAsync(TwilioApi api, Settings settings, bool subaccounts, (string? Since, string? Until, string? CallSid) filters, int workers, bool quiet, bool json)
    {
        var cancel = Program.Cancellation;
        var clock = Stopwatch.StartNew();
        var accounts = await api.AccountsAsync(subaccounts, cancel);
        var recordings = new List<JsonElement>();
        foreach (var account in accounts)
        {
            var query = TwilioApi.Query(("PageSize", "1000"), ("DateCreated>", filters.Since), ("DateCreated<", filters.Until), ("CallSid", filters.CallSid));
            await foreach (var recording in api.ListAsync($"/2010-04-01/Accounts/{account}/Recordings.json?{query}", "recordings", cancel))
            {
                recordings.Add(recording);
            }
        }
        var outcomes = new ConcurrentBag<Outcome>();
        var report = new ItemReport("fetch", recordings.Count, quiet || json);
        await Parallel.ForEachAsync(recordings, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancel }, async (recording, token) =>
        {
            var outcome = await FetchOneAsync(api, settings, recording, token);
            outcomes.Add(outcome);
            report.Item(outcome.Status switch
            {
                "fetched" => $"fetched  {outcome.Recording} -> {outcome.Output}" + (outcome.DeletedAtSource ? " (deleted at the source)" : ""),
                "skipped" or "unavailable" => $"{outcome.Status,-8} {outcome.Recording}: {outcome.Error}",
                _ => ItemReport.Failure(outcome.Recording, outcome.Error, outcome.Hint),
            }, outcome.Status == "failed");
        });
        report.Finish();
        var all = outcomes.OrderBy(o => o.Account, StringComparer.Ordinal).ThenBy(o => o.Recording, StringComparer.Ordinal).ToList();
        int Count(string status) => all.Count(o => o.Status == status);
        int fetched = Count("fetched"), skipped = Count("skipped"), unavailable = Count("unavailable"), failed = Count("failed");
        long bytes = all.Sum(o => o.Bytes);
        double seconds = clock.Elapsed.TotalSeconds;
        if (json)
        {
            Console.Out.WriteLine(CliJson.Serialize(new Dictionary<string, object?>
            {
                ["fetched"] = fetched,
                ["skipped"] = skipped,
                ["unavailable"] = unavailable,
                ["failed"] = failed,
                ["deleted_at_source"] = all.Count(o => o.DeletedAtSource),
                ["bytes"] = bytes,
                ["seconds"] = Math.Round(seconds, 3),
                ["accounts"] = accounts,
                ["results"] = all.Select(o => new Dictionary<string, object?>
                {
                    ["recording"] = o.Recording,
                    ["account"] = o.Account,
                    ["status"] = o.Status,
                    ["output"] = o.Output,
                    ["bytes"] = o.Bytes,
                    ["error"] = o.Error,
                    ["hint"] = o.Hint,
                    ["deleted_at_source"] = o.DeletedAtSource,
                }),
            }));
        }
        if (!quiet)
        {
            Console.Error.WriteLine($"fetch: {fetched} fetched, {skipped} already here, {unavailable} without media, {failed} failed; " +
                $"{Units.Bytes(bytes)} in {seconds:0.00} s from {accounts.Count} account(s)");
        }
        return failed == 0 ? 0 : 1;
    }

    internal static async Task<Outcome> FetchOneAsync(TwilioApi api, Settings settings, JsonElement recording, CancellationToken cancellationToken)
    {
        var sid = recording.GetProperty("sid").GetString()!;
        var account = recording.GetProperty("account_sid").GetString()!;
        try
        {
            if (!Sids.Is(sid, "RE") || !Sids.Is(account, "AC"))
            {
                return new Outcome(sid, account, "failed", 0, null, "the API listed a recording whose SID or account SID is malformed", null);
            }
            var status = recording.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (status != "completed")
            {
                var code = recording.TryGetProperty("error_code", out var c) && c.ValueKind != JsonValueKind.Null ? $", error {c}" : "";
                return new Outcome(sid, account, "unavailable", 0, null, $"status {status}{code}: no media to fetch", null);
            }
            var day = (TwilioApi.Date(recording, "date_created") ?? DateTimeOffset.UnixEpoch).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var folder = Path.Combine(settings.Out.FullName, account, day);
            var encrypted = recording.TryGetProperty("encryption_details", out var d) && d.ValueKind == JsonValueKind.Object;
            var output = Path.Combine(folder, sid + (encrypted && !settings.Decrypt ? ".enc" : ".wav"));
            var detailsFile = Path.Combine(folder, sid + ".json");
            if (File.Exists(output) && File.Exists(detailsFile))
            {
                // Both files exist only once the recording verified: nothing to fetch again.
                bool purged = settings.DeleteAfter && await api.DeleteAsync(MediaPath(account, sid) + ".json", cancellationToken);
                return new Outcome(sid, account, "skipped", 0, output, "already fetched and verified", null, purged);
            }
            Directory.CreateDirectory(folder);
            long length = 0;
            for (int attempt = 1; ; attempt++)
            {
                // Streamed: downloaded, decrypted and written in one pass; a dropped connection is
                // resumed by Range under the decryptor, which keeps its GCM state.
                await using var media = await ResumableDownload.OpenAsync(api, MediaPath(account, sid), cancellationToken);
                try
                {
                    length = await PublishAsync(settings, recording, encrypted, media, output, cancellationToken);
                    break;
                }
                catch (AuthenticationFailedException) when (attempt < 3)
                {
                    // Corrupted on the way: nothing was published; the whole file again, three times at most.
                }
            }
            WriteAtomically(detailsFile, Encoding.UTF8.GetBytes(recording.GetRawText()), settings.Sync);
            bool deleted = settings.DeleteAfter && await api.DeleteAsync(MediaPath(account, sid) + ".json", cancellationToken);
            return new Outcome(sid, account, "fetched", length, output, null, null, deleted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var (message, hint) = Program.Explain(e);
            return new Outcome(sid, account, "failed", 0, null, message, hint);
        }
    }

    /// <summary>Verifies the media as it arrives and puts the result in place; nothing unverified is ever published. Returns the bytes received.</summary>
    private static async Task<long> PublishAsync(Settings settings, JsonElement recording, bool encrypted, ResumableDownload media, string output, CancellationToken cancellationToken)
    {
        using var target = AtomicOutput.Create(output);
        if (!encrypted || settings.Keys is null)
        {
            // Unencrypted at the source there is no tag: the length is checked as it arrives, and
            // it must at least be the WAV it claims to be. (--no-decrypt without a key: ciphertext as it came.)
            await media.CopyToAsync(target.Stream, 1 << 20, cancellationToken);
            if (!encrypted)
            {
                target.Stream.Position = 0;
                var head = new byte[12];
                if (target.Stream.ReadAtLeast(head, 12, throwOnEndOfStream: false) < 12 || !head.AsSpan(0, 4).SequenceEqual("RIFF"u8) || !head.AsSpan(8, 4).SequenceEqual("WAVE"u8))
                {
                    throw new CliException("the unencrypted media is not a WAV file", "is the media URL right?");
                }
            }
            target.Commit(settings.Sync);
            return media.Position;
        }
        var details = EncryptionDetails.Parse(recording.GetRawText());
        var (key, _, _) = settings.Keys.Unwrap(details);
        using (key)
        {
            if (settings.Decrypt)
            {
                // The decryptor writes 64 KiB at a time; gathered into 1 MiB writes, the file
                // system (and the thread pool that serves async writes) sees a sixteenth as many.
                using var gathered = new GatheredWrites(target.Stream);
                await RecordingDecryptor.DecryptAsync(media, gathered, key, details.Iv, cancellationToken);
                await gathered.FlushAsync(cancellationToken);
            }
            else
            {
                // The ciphertext is kept; it is verified from the written copy before it is published.
                await media.CopyToAsync(target.Stream, 1 << 20, cancellationToken);
                target.Stream.Position = 0;
                RecordingDecryptor.Verify(target.Stream, key, details.Iv, null, cancellationToken);
            }
        }
        target.Commit(settings.Sync);
        return media.Position;
    }

    private static void WriteAtomically(string path, byte[] content, bool sync)
    {
        using var target = AtomicOutput.Create(path);
        target.Stream.Write(content);
        target.Commit(sync);
    }

    private static string MediaPath(string account, string sid) => $"/2010-04-01/Accounts/{account}/Recordings/{sid}";
}
