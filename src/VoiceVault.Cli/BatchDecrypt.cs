using System.Collections.Concurrent;
using System.Diagnostics;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

/// <summary>
/// Decrypts a directory of recordings in parallel. Each recording is a details file
/// <c>X.json</c> (Recording resource, encryption_details or callback EncryptionDetails) beside its
/// media <c>X</c>, <c>X.wav</c> or <c>X.enc</c>; the output is <c>OUT/X.wav</c> (X without .enc/.wav).
/// </summary>
internal static class BatchDecrypt
{
    private sealed record Outcome(string Recording, string Status, long Bytes, string? Output, string? KeySid, string? Error, string? Hint);

    public static int Run(DirectoryInfo source, DirectoryInfo target, KeyChoice keys, int workers, bool force, bool sync, bool quiet, bool json)
    {
        if (!source.Exists)
        {
            throw new CliException($"batch directory '{source.FullName}' does not exist", "check the path");
        }
        Directory.CreateDirectory(target.FullName);
        var jobs = source.EnumerateFiles("*.json").OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (jobs.Count == 0)
        {
            throw new CliException($"no recordings in '{source.FullName}': expected X.json details files beside their media", "download recordings with their details, e.g. RE….wav and RE….json");
        }
        var outcomes = new ConcurrentBag<Outcome>();
        var clock = Stopwatch.StartNew();
        var report = new ItemReport("batch", jobs.Count, quiet || json);
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = Program.Cancellation }, job =>
        {
            var outcome = DecryptOne(job, target, keys, force, sync);
            outcomes.Add(outcome);
            report.Item(outcome.Status switch
            {
                "ok" => $"ok       {outcome.Recording} -> {outcome.Output}",
                "skipped" => $"skipped  {outcome.Recording}: {outcome.Error}",
                _ => ItemReport.Failure(outcome.Recording, outcome.Error, outcome.Hint),
            }, outcome.Status == "failed");
        });
        report.Finish();
        var all = outcomes.OrderBy(o => o.Recording, StringComparer.Ordinal).ToList();
        int ok = all.Count(o => o.Status == "ok");
        int failed = all.Count(o => o.Status == "failed");
        int skipped = all.Count(o => o.Status == "skipped");
        long bytes = all.Sum(o => o.Bytes);
        double seconds = clock.Elapsed.TotalSeconds;
        if (json)
        {
            Console.Out.WriteLine(CliJson.Serialize(new Dictionary<string, object?>
            {
                ["ok"] = ok,
                ["failed"] = failed,
                ["skipped"] = skipped,
                ["bytes"] = bytes,
                ["seconds"] = Math.Round(seconds, 3),
                ["recordings_per_second"] = Math.Round(ok / Math.Max(seconds, 1e-6), 1),
                ["workers"] = workers,
                ["results"] = all.Select(o => new Dictionary<string, object?>
                {
                    ["recording"] = o.Recording,
                    ["status"] = o.Status,
                    ["output"] = o.Output,
                    ["bytes"] = o.Bytes,
                    ["public_key_sid"] = o.KeySid,
                    ["error"] = o.Error,
                    ["hint"] = o.Hint,
                }),
            }));
        }
        if (!quiet)
        {
            Console.Error.WriteLine($"batch: {ok} ok, {failed} failed, {skipped} skipped; {Units.Bytes(bytes)} in {seconds:0.00} s ({ok / Math.Max(seconds, 1e-6):0.0} recordings/s, {workers} worker(s))");
        }
        return failed == 0 ? 0 : 1;
    }

    private static Outcome DecryptOne(FileInfo detailsFile, DirectoryInfo target, KeyChoice keys, bool force, bool sync)
    {
        var stem = Path.GetFileNameWithoutExtension(detailsFile.Name);
        var name = stem;
        try
        {
            EncryptionDetails details;
            try
            {
                details = EncryptionDetails.Parse(File.ReadAllText(detailsFile.FullName));
            }
            catch (RecordingNotEncryptedException e)
            {
                return new Outcome(name, "skipped", 0, null, null, e.Message, null);
            }
            var media = new[] { stem, stem + ".wav", stem + ".enc" }
                .Select(n => Path.Combine(detailsFile.DirectoryName!, n))
                .FirstOrDefault(File.Exists);
            if (media is null)
            {
                return new Outcome(name, "failed", 0, null, null, $"no media beside {detailsFile.Name} (looked for {stem}, {stem}.wav, {stem}.enc)", "download the recording's media too");
            }
            var baseName = Path.GetFileName(media);
            foreach (var suffix in new[] { ".enc", ".wav" })
            {
                if (baseName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    baseName = baseName[..^suffix.Length];
                }
            }
            var output = Path.Combine(target.FullName, baseName + ".wav");
            if (!force && File.Exists(output))
            {
                return new Outcome(name, "skipped", 0, output, null, "already decrypted (use --force to decrypt again)", null);
            }
            var (key, keySid, _) = keys.Unwrap(details);
            using (key)
            {
                long length = DecryptCommand.DecryptFile(media, output, key, details.Iv, sync, quiet: true);
                return new Outcome(name, "ok", length, output, keySid, null, null);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var (message, hint) = Program.Explain(e);
            return new Outcome(name, "failed", 0, null, null, message, hint);
        }
    }
}
