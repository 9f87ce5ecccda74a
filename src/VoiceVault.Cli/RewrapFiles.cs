using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

/// <summary>
/// <c>voicevault rewrap DETAILS…</c>: the local side of key rotation. Each details file (a Recording
/// resource, its encryption_details, or a callback's EncryptionDetails) gets its wrap replaced by
/// one to the new key — after the CEK is proven by the tag of the media beside it — in place and
/// atomically, the previous file kept as <c>X.json.CRold.bak</c> (the old wrap stays usable).
/// Every other field and the file's spelling of the details are kept.
/// </summary>
internal static class RewrapFiles
{
    public static int Run(FileInfo[] files, KeyChoice keys, string? fromSid, RSA newKey, string newSid, bool quiet, bool json)
    {
        int done = 0, skipped = 0, failed = 0;
        var results = new List<Dictionary<string, object?>>();
        var report = new ItemReport("rewrap", files.Length, quiet || json);
        foreach (var file in files)
        {
            string status;
            string? error = null, hint = null;
            try
            {
                status = RewrapOne(file, keys, fromSid, newKey, newSid, out error);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                (error, hint) = Program.Explain(e);
                status = "failed";
            }
            switch (status)
            {
                case "rewrapped": done++; break;
                case "skipped": skipped++; break;
                default: failed++; break;
            }
            results.Add(new() { ["file"] = file.FullName, ["status"] = status, ["error"] = error, ["hint"] = hint });
            report.Item(status switch
            {
                "rewrapped" => $"rewrapped {file.Name} -> {newSid}",
                "skipped" => $"skipped   {file.Name}: {error}",
                _ => ItemReport.Failure(file.Name, error, hint),
            }, status == "failed");
        }
        report.Finish();
        if (json)
        {
            Console.Out.WriteLine(CliJson.Serialize(new Dictionary<string, object?> { ["to"] = newSid, ["rewrapped"] = done, ["skipped"] = skipped, ["failed"] = failed, ["results"] = results }));
        }
        if (!quiet)
        {
            Console.Error.WriteLine($"rewrap: {done} re-wrapped to {newSid}, {skipped} skipped, {failed} failed");
        }
        return failed == 0 ? 0 : 1;
    }

    private static string RewrapOne(FileInfo file, KeyChoice keys, string? fromSid, RSA newKey, string newSid, out string? note)
    {
        note = null;
        var text = File.ReadAllText(file.FullName);
        var details = EncryptionDetails.Parse(text);
        if (fromSid is not null && details.PublicKeySid != fromSid)
        {
            note = $"wrapped to {details.PublicKeySid ?? "an unnamed key"}, not {fromSid}";
            return "skipped";
        }
        if (details.PublicKeySid == newSid)
        {
            note = $"already wrapped to {newSid}";
            return "skipped";
        }
        var stem = Path.GetFileNameWithoutExtension(file.Name);
        var media = new[] { stem, stem + ".wav", stem + ".enc" }.Select(n => Path.Combine(file.DirectoryName!, n)).FirstOrDefault(File.Exists)
            ?? throw new CliException($"no media beside {file.Name} (looked for {stem}, {stem}.wav, {stem}.enc)",
                "the CEK is proven by the recording's tag before it is re-wrapped: keep the media beside its details");
        var (cek, _, _) = keys.Unwrap(details);
        using (cek)
        {
            using (var encrypted = File.OpenRead(media))
            {
                RecordingDecryptor.Verify(encrypted, cek, details.Iv, null, Program.Cancellation);
            }
            var wrapped = Convert.ToBase64String(KeyWrap.Wrap(newKey, cek));
            var root = JsonNode.Parse(text) ?? throw new CliException($"{file.Name} is empty");
            if (root is JsonValue value && value.TryGetValue<string>(out var inner))
            {
                // A callback's EncryptionDetails, kept as the JSON string it arrived as.
                var replaced = Replace(JsonNode.Parse(inner)!.AsObject(), newSid, wrapped);
                using var buffer = new MemoryStream();
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    replaced.WriteTo(writer);
                }
                root = JsonValue.Create(Encoding.UTF8.GetString(buffer.ToArray()));
            }
            else
            {
                var holder = root["encryption_details"] is JsonObject nested ? nested : root.AsObject();
                Replace(holder, newSid, wrapped);
            }
            var backup = $"{file.FullName}.{details.PublicKeySid ?? "unnamed"}.bak";
            File.Copy(file.FullName, backup, overwrite: true);
            using var output = AtomicOutput.Create(file.FullName);
            using (var writer = new Utf8JsonWriter(output.Stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                root.WriteTo(writer);
            }
            output.Commit(sync: true);
        }
        return "rewrapped";
    }

    /// <summary>Sets the key SID and the wrap under whichever spellings the object uses (docs/format.md), adding the REST one if it uses none.</summary>
    private static JsonObject Replace(JsonObject details, string sid, string wrapped)
    {
        bool named = false, set = false;
        foreach (var name in (string[])["public_key_sid", "encryption_public_key_sid"])
        {
            if (details.ContainsKey(name))
            {
                details[name] = sid;
                named = true;
            }
        }
        foreach (var name in (string[])["encrypted_cek", "encryption_cek"])
        {
            if (details.ContainsKey(name))
            {
                details[name] = wrapped;
                set = true;
            }
        }
        if (!named)
        {
            details["encryption_public_key_sid"] = sid;
        }
        if (!set)
        {
            details["encryption_cek"] = wrapped;
        }
        return details;
    }
}
