using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Cli;

/// <summary>
/// <c>voicevault audit export</c> and <c>voicevault audit verify</c> (docs/audit.md). An export is
/// JSON Lines: a header (the account, the checkpoint it stops at, the anchor it starts from when
/// the chain was pruned, the vault's signing keys), then every event oldest first, each checkpoint
/// of the chain right after the event it signs.
/// </summary>
internal static class AuditCommand
{
    public const string FormatName = "voicevault_audit_export";

    /// <summary>The exit code of a trail that was read and does not hold (1 is for a command that could not run).</summary>
    public const int BrokenExitCode = 3;

    public static Command Create()
    {
        var command = new Command("audit", "Export an account's audit trail and verify it (docs/audit.md).") { Export(), Verify() };
        return command;
    }

    private static Command Export()
    {
        var account = new Option<string>("--account") { Description = "The account whose chain is exported (AC…).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The export (JSON Lines); written to OUT.partial until complete, which a new run resumes.", Required = true };
        var baseUrl = new Option<string>("--base-url") { Description = "The vault.", Required = true };
        var quiet = Options.Quiet();
        var command = new Command("export", "Ask the vault for a checkpoint and export every event up to it, oldest first, with the checkpoints; credentials from TWILIO_* variables.")
        {
            account, output, baseUrl, quiet,
        };
        command.SetAction(parse => Program.Guard(() =>
        {
            var sid = parse.GetValue(account)!;
            if (!Sids.Is(sid, "AC"))
            {
                throw new CliException($"--account '{sid}' is not an account SID", "AC followed by 32 hex digits");
            }
            using var api = TwilioApi.FromEnvironment(parse.GetValue(baseUrl)!);
            var summary = AuditExport.RunAsync(api, sid, parse.GetValue(output)!.FullName, Program.Cancellation).GetAwaiter().GetResult();
            if (!parse.GetValue(quiet))
            {
                Console.Error.WriteLine(summary);
            }
            return 0;
        }));
        return command;
    }

    private static Command Verify()
    {
        var file = new Argument<FileInfo>("EXPORT") { Description = "An export made by audit export." };
        var keys = new Option<FileInfo?>("--signing-keys")
        {
            Description = "The vault's signing keys as GET /v1/Audit/SigningKeys serves them, from a source you trust; without it, the keys in the export are used (and said so).",
        };
        var json = Options.Json();
        var command = new Command("verify", "Verify an export: every hash links, no sequence is missing, and its checkpoint signs the last event. Exit 0 when it holds, 3 when it does not.")
        {
            file, keys, json,
        };
        command.SetAction(parse => Program.Guard(() =>
        {
            var path = parse.GetValue(file)!.FullName;
            var trusted = parse.GetValue(keys) is { } k ? AuditVerifier.ReadKeys(File.ReadAllText(k.FullName), k.FullName) : null;
            var result = AuditVerifier.Verify(path, trusted);
            if (parse.GetValue(json))
            {
                Console.WriteLine(result.ToJson());
            }
            else if (result.Broken is { } broken)
            {
                Console.Error.WriteLine($"error: sequence {broken.Sequence.ToString(CultureInfo.InvariantCulture)}: {broken.Kind} — {broken.Detail}");
            }
            else
            {
                Console.WriteLine(result.Summary());
            }
            if (result.Broken is null && trusted is null)
            {
                Console.Error.WriteLine("note: the checkpoints were checked against the signing keys inside the export; pass --signing-keys with keys from a source you trust");
            }
            return result.Broken is null ? 0 : BrokenExitCode;
        }));
        return command;
    }
}

/// <summary>Exports one account's chain (see <see cref="AuditCommand"/>), resumably.</summary>
internal static class AuditExport
{
    public static async Task<string> RunAsync(TwilioApi api, string account, string output, CancellationToken cancellationToken)
    {
        var partial = output + ".partial";
        JsonElement header;
        long last = 0;
        bool resumed = File.Exists(partial);
        if (resumed)
        {
            (header, last) = ReadPartial(partial, account);
        }
        else
        {
            // The checkpoint first: the export stops at it, and whatever happens later is the next export's.
            using var made = await api.PostAsync($"/v1/Accounts/{account}/AuditCheckpoints", new Dictionary<string, string>(), cancellationToken);
            var checkpoint = made.RootElement.Clone();
            // A pruned chain starts after its anchor: the checkpoint at the sequence before its oldest event.
            JsonElement? anchor = null;
            using (var oldest = await api.GetJsonAsync($"/v1/Accounts/{account}/AuditEvents?Order=asc&PageSize=1", cancellationToken))
            {
                long first = oldest.RootElement.GetProperty("audit_events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()).FirstOrDefault(1);
                if (first > 1)
                {
                    await foreach (var c in CheckpointsAsync(api, account, cancellationToken))
                    {
                        anchor = c.GetProperty("sequence").GetInt64() == first - 1 ? c : anchor;
                    }
                    if (anchor is null)
                    {
                        throw new CliException($"the chain of {account} starts at sequence {first} and no checkpoint signs sequence {first - 1}",
                            "a pruned chain keeps its anchor checkpoint; the vault's database was changed outside it");
                    }
                }
            }
            using var keys = await api.GetJsonAsync("/v1/Audit/SigningKeys", cancellationToken);
            header = Header(account, checkpoint, anchor, keys.RootElement.GetProperty("signing_keys"));
            using var start = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.None);
            await start.WriteAsync(Encoding.UTF8.GetBytes(header.GetRawText() + "\n"), cancellationToken);
        }
        var target = header.GetProperty("checkpoint");
        long upTo = target.GetProperty("sequence").GetInt64();
        // The chain's checkpoints up to the export's, by sequence, to file each after its event.
        var checkpoints = new SortedDictionary<long, List<string>>();
        await foreach (var c in CheckpointsAsync(api, account, cancellationToken))
        {
            long at = c.GetProperty("sequence").GetInt64();
            if (at <= upTo && at > last)
            {
                (checkpoints.TryGetValue(at, out var list) ? list : checkpoints[at] = []).Insert(0, c.GetRawText());
            }
        }
        long events = 0;
        await using (var writer = new StreamWriter(new FileStream(partial, FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16), new UTF8Encoding(false)))
        {
            string? next = $"/v1/Accounts/{account}/AuditEvents?Order=asc&PageSize=1000" + (last > 0 ? $"&PageToken=PA{last.ToString(CultureInfo.InvariantCulture)}" : "");
            while (next is not null)
            {
                using var page = await api.GetJsonAsync(next, cancellationToken);
                next = null;
                foreach (var e in page.RootElement.GetProperty("audit_events").EnumerateArray())
                {
                    long sequence = e.GetProperty("sequence").GetInt64();
                    if (sequence > upTo)
                    {
                        break;
                    }
                    await writer.WriteLineAsync(e.GetRawText());
                    foreach (var c in checkpoints.GetValueOrDefault(sequence) ?? [])
                    {
                        await writer.WriteLineAsync(c);
                    }
                    last = sequence;
                    events++;
                }
                if (last < upTo && page.RootElement.GetProperty("meta").GetProperty("next_page_url") is { ValueKind: JsonValueKind.String } link)
                {
                    next = link.GetString();
                }
            }
            await writer.FlushAsync(cancellationToken);
            if (writer.BaseStream is FileStream file)
            {
                file.Flush(flushToDisk: true);
            }
        }
        File.Move(partial, output, overwrite: true);
        // The vault records that its trail left it, up to which checkpoint.
        using (await api.PostAsync($"/v1/Accounts/{account}/AuditExports", new Dictionary<string, string>
        {
            ["CheckpointSid"] = target.GetProperty("sid").GetString()!,
        }, cancellationToken))
        {
        }
        return $"Exported the audit trail of {account} up to sequence {upTo.ToString(CultureInfo.InvariantCulture)} (checkpoint {target.GetProperty("sid").GetString()})" +
            $"{(resumed ? $", resumed: {events.ToString(CultureInfo.InvariantCulture)} events added" : "")} to {output}. Check it with: voicevault audit verify {output}";
    }

    private static JsonElement Header(string account, JsonElement checkpoint, JsonElement? anchor, JsonElement keys)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber(AuditCommand.FormatName, 1);
            json.WriteString("account_sid", account);
            json.WritePropertyName("checkpoint");
            checkpoint.WriteTo(json);
            json.WritePropertyName("anchor");
            if (anchor is { } a)
            {
                a.WriteTo(json);
            }
            else
            {
                json.WriteNullValue();
            }
            json.WritePropertyName("signing_keys");
            keys.WriteTo(json);
            json.WriteEndObject();
        }
        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    private static async IAsyncEnumerable<JsonElement> CheckpointsAsync(TwilioApi api, string account,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? next = $"/v1/Accounts/{account}/AuditCheckpoints?PageSize=1000";
        while (next is not null)
        {
            using var page = await api.GetJsonAsync(next, cancellationToken);
            foreach (var c in page.RootElement.GetProperty("audit_checkpoints").EnumerateArray())
            {
                yield return c.Clone();
            }
            next = page.RootElement.GetProperty("meta").GetProperty("next_page_url") is { ValueKind: JsonValueKind.String } link ? link.GetString() : null;
        }
    }

    // An interrupted export: its header, and the last event it holds whole (a torn last line is cut off).
    private static (JsonElement Header, long Last) ReadPartial(string partial, string account)
    {
        JsonElement? header = null;
        long last = 0, good = 0;
        using (var reader = new StreamReader(partial, new UTF8Encoding(false)))
        {
            long offset = 0;
            while (reader.ReadLine() is { } line)
            {
                JsonElement record;
                try
                {
                    record = JsonDocument.Parse(line).RootElement.Clone();
                }
                catch (JsonException)
                {
                    break;
                }
                offset += Encoding.UTF8.GetByteCount(line) + 1;
                if (header is null)
                {
                    header = record;
                    if (!record.TryGetProperty(AuditCommand.FormatName, out _) || record.GetProperty("account_sid").GetString() != account)
                    {
                        throw new CliException($"{partial} is not an interrupted export of {account}", "remove it, or export to another --out");
                    }
                }
                else if (record.GetProperty("sid").GetString()!.StartsWith("AE", StringComparison.Ordinal))
                {
                    last = record.GetProperty("sequence").GetInt64();
                }
                good = offset;
            }
        }
        if (header is null)
        {
            File.Delete(partial);
            throw new CliException($"{partial} held no header and was removed", "run the export again");
        }
        using (var trim = new FileStream(partial, FileMode.Open, FileAccess.Write))
        {
            trim.SetLength(good);
        }
        return (header.Value, last);
    }
}
