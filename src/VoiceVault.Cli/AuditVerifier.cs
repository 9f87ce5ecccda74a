using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

/// <summary>Where a trail stops holding: the first broken sequence, what is wrong there, and how it was found.</summary>
internal sealed record AuditBreak(long Sequence, string Kind, string Detail);

internal sealed record AuditVerification(string? AccountSid, long First, long Last, long Events, string? CheckpointSid, string? KeyId, AuditBreak? Broken)
{
    public string Summary() =>
        $"OK: {Events.ToString(CultureInfo.InvariantCulture)} events of {AccountSid} (sequences {First.ToString(CultureInfo.InvariantCulture)}–{Last.ToString(CultureInfo.InvariantCulture)}) link, " +
        $"none is missing, and checkpoint {CheckpointSid} (key {KeyId}) signs the last.";

    public string ToJson() => CliJson.Serialize(new Dictionary<string, object?>
    {
        ["ok"] = Broken is null,
        ["account_sid"] = AccountSid,
        ["first_sequence"] = First,
        ["last_sequence"] = Last,
        ["events"] = Events,
        ["checkpoint_sid"] = CheckpointSid,
        ["key_id"] = KeyId,
        ["broken"] = Broken is null ? null : new Dictionary<string, object> { ["sequence"] = Broken.Sequence, ["kind"] = Broken.Kind, ["detail"] = Broken.Detail },
    });
}

/// <summary>
/// Verifies an export (docs/audit.md) as it streams past, one line of look-ahead, so memory stays
/// flat however long the trail: each event's hash over the previous hash and its canonical form,
/// the sequence without gaps, each checkpoint's signature and hash, and at the end that the
/// export's checkpoint signs the last event. The first thing wrong is named: <c>changed</c>,
/// <c>missing</c>, <c>reordered</c>, <c>truncated</c> or <c>bad signature</c>.
/// </summary>
internal static class AuditVerifier
{
    private static readonly string Genesis = new('0', 64);

    private sealed class Found(long sequence, string kind, string detail) : Exception(detail)
    {
        public AuditBreak Break { get; } = new(sequence, kind, detail);
    }

    /// <summary>Signing keys by ID, from <c>GET /v1/Audit/SigningKeys</c>'s answer (or its list alone).</summary>
    public static Dictionary<string, ECDsa> ReadKeys(string json, string where)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var list = document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.GetProperty("signing_keys") : document.RootElement;
            return Keys(list);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or CryptographicException)
        {
            throw new CliException($"{where} is not a list of signing keys ({e.Message})", "save the answer of GET /v1/Audit/SigningKeys");
        }
    }

    private static Dictionary<string, ECDsa> Keys(JsonElement list)
    {
        var keys = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
        foreach (var item in list.EnumerateArray())
        {
            var key = ECDsa.Create();
            key.ImportFromPem(item.GetProperty("public_key").GetString());
            // A key is the one its ID names, or it is no key of the vault's.
            var id = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
            if (id == item.GetProperty("key_id").GetString())
            {
                keys[id] = key;
            }
        }
        return keys;
    }

    public static AuditVerification Verify(string path, Dictionary<string, ECDsa>? trusted)
    {
        using var reader = new LineReader(path);
        var first = reader.ReadLine() ?? throw new CliException($"{path} is empty", "give a file made by voicevault audit export");
        JsonDocument parsed;
        try
        {
            // A copy: the header is read until the end, the reader's buffer is reused line after line.
            parsed = Parse(first.ToArray(), 1);
        }
        catch (Found)
        {
            throw new CliException($"{path} is not an audit export (its first line is not JSON)", "give a file made by voicevault audit export");
        }
        using var header = parsed;
        if (!header.RootElement.TryGetProperty(AuditCommand.FormatName, out var version) || version.ValueKind != JsonValueKind.Number || version.GetInt32() != 1)
        {
            throw new CliException($"{path} is not an audit export (its first line is no {AuditCommand.FormatName} header)", "give a file made by voicevault audit export");
        }
        var account = header.RootElement.GetProperty("account_sid").GetString();
        var target = header.RootElement.GetProperty("checkpoint");
        long upTo = target.GetProperty("sequence").GetInt64();
        var keys = trusted ?? Keys(header.RootElement.GetProperty("signing_keys"));
        long expected = 1, events = 0;
        string previous = Genesis;
        try
        {
            Checkpoint(target, account, keys);
            if (header.RootElement.GetProperty("anchor") is { ValueKind: JsonValueKind.Object } anchor)
            {
                // A pruned chain: it starts where its anchor checkpoint says, not at 64 zeros.
                Checkpoint(anchor, account, keys);
                expected = anchor.GetProperty("sequence").GetInt64() + 1;
                previous = anchor.GetProperty("hash").GetString()!;
            }
            long firstSequence = expected;
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Span<byte> link = stackalloc byte[32];
            Span<char> hex = stackalloc char[64];
            Convert.FromHexString(previous, link, out _, out _);
            previous.CopyTo(hex);
            // Lines are parsed and canonicalized a batch at a time on every core; the chain is then
            // walked in order on one. Memory is one batch, however long the file.
            var batch = new Batch(BatchLines);
            long line = 1;
            while (batch.Fill(reader))
            {
                Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => batch.Prepare(i, account));
                for (int i = 0; i < batch.Count; i++)
                {
                    line++;
                    var item = batch.Items[i];
                    if (item.Error is { } error)
                    {
                        throw new Found(item.Sequence ?? expected, "changed", $"line {line}: {error}");
                    }
                    long sequence = item.Sequence!.Value;
                    if (item.OtherAccount is { } foreign)
                    {
                        throw new Found(sequence, "changed", $"the record on line {line} belongs to account {foreign}, not {account} (replayed from another chain)");
                    }
                    if (item.IsCheckpoint)
                    {
                        using var record = JsonDocument.Parse(batch.Line(i));
                        var c = record.RootElement;
                        Checkpoint(c, account, keys);
                        if (sequence != expected - 1 || !c.GetProperty("hash").ValueEquals(hex))
                        {
                            throw new Found(sequence, "changed", $"checkpoint {c.GetProperty("sid").GetString()} signs hash {c.GetProperty("hash").GetString()} at sequence {sequence}, which the events before it do not reach");
                        }
                        continue;
                    }
                    if (sequence < expected)
                    {
                        throw new Found(sequence, "reordered", $"sequence {sequence} comes again after {expected - 1} (line {line})");
                    }
                    if (sequence > expected)
                    {
                        long? following = i + 1 < batch.Count ? batch.Items[i + 1].Sequence : reader.ReadLine() is { } next ? Sequence(next) : null;
                        throw following == expected
                            ? new Found(expected, "reordered", $"sequence {sequence} comes before {expected} (line {line})")
                            : new Found(expected, "missing", $"the file goes from sequence {expected - 1} to {sequence} (line {line})");
                    }
                    if (!hex.SequenceEqual(item.PreviousHash))
                    {
                        throw new Found(sequence, "changed", $"its previous_hash is not the hash of sequence {sequence - 1}: one of the two was altered");
                    }
                    sha.AppendData(link);
                    sha.AppendData(batch.Canonical(i));
                    sha.GetHashAndReset(link);
                    Convert.TryToHexStringLower(link, hex, out _);
                    if (!hex.SequenceEqual(item.Hash))
                    {
                        throw new Found(sequence, "changed", "its content does not hash to its hash: a field was altered after it was recorded");
                    }
                    expected++;
                    events++;
                }
            }
            previous = new string(hex);
            if (expected - 1 < upTo)
            {
                throw new Found(expected, "truncated", $"the events end at sequence {expected - 1}; checkpoint {target.GetProperty("sid").GetString()} signs sequence {upTo}");
            }
            if (expected - 1 > upTo || previous != target.GetProperty("hash").GetString())
            {
                throw new Found(upTo, "changed", $"the chain does not reach the hash checkpoint {target.GetProperty("sid").GetString()} signs at sequence {upTo}");
            }
            return new AuditVerification(account, firstSequence, expected - 1, events, target.GetProperty("sid").GetString(), target.GetProperty("key_id").GetString(), null);
        }
        catch (Found found)
        {
            return new AuditVerification(account, 0, expected - 1, events, target.GetProperty("sid").GetString(), target.GetProperty("key_id").GetString(), found.Break);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return new AuditVerification(account, 0, expected - 1, events, null, null, new AuditBreak(expected, "changed", $"a record lacks a field or has one of the wrong type ({e.Message})"));
        }
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> line, long number)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new Found(0, "changed", $"line {number} is not JSON ({e.Message})");
        }
    }

    private static long? Sequence(ReadOnlyMemory<byte> line)
    {
        try
        {
            using var record = JsonDocument.Parse(line);
            return record.RootElement.TryGetProperty("sequence", out var q) && q.TryGetInt64(out var n) ? n : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // A checkpoint's signature under the key its key_id names: over the JCS of every field but signature and url.
    private static void Checkpoint(JsonElement c, string? account, Dictionary<string, ECDsa> keys)
    {
        long sequence = c.GetProperty("sequence").GetInt64();
        var keyId = c.GetProperty("key_id").GetString() ?? "";
        if (c.GetProperty("account_sid").GetString() != account)
        {
            throw new Found(sequence, "bad signature", $"checkpoint {c.GetProperty("sid").GetString()} is of account {c.GetProperty("account_sid").GetString()}, not {account}");
        }
        if (!keys.TryGetValue(keyId, out var key))
        {
            throw new Found(sequence, "bad signature", $"checkpoint {c.GetProperty("sid").GetString()} names key {keyId}, which is not one of the vault's signing keys");
        }
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(c.GetProperty("signature").GetString() ?? "");
        }
        catch (FormatException)
        {
            throw new Found(sequence, "bad signature", $"checkpoint {c.GetProperty("sid").GetString()}'s signature is not base64");
        }
        var signed = Encoding.UTF8.GetBytes(Jcs.Element(c, name => name is "signature" or "url"));
        if (!key.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
        {
            throw new Found(sequence, "bad signature", $"checkpoint {c.GetProperty("sid").GetString()}'s signature does not verify under key {keyId}");
        }
    }

    private const int BatchLines = 4096;

    /// <summary>What the parallel pass finds in one line, for the walk in order.</summary>
    private struct Prepared
    {
        public long? Sequence;
        public bool IsCheckpoint;
        public string? OtherAccount;
        public string PreviousHash;
        public string Hash;
        public string? Error;
    }

    /// <summary>A batch of lines, copied out of the reader, and each one's canonical form once prepared.</summary>
    private sealed class Batch(int capacity)
    {
        private static readonly string[] Unhashed = ["hash", "url"];
        private byte[] _bytes = new byte[capacity * 1024];
        private readonly (int Offset, int Length)[] _lines = new (int, int)[capacity];
        private readonly ArrayBufferWriter<byte>[] _canonical = Enumerable.Range(0, capacity).Select(_ => new ArrayBufferWriter<byte>(2048)).ToArray();

        public Prepared[] Items { get; } = new Prepared[capacity];

        public int Count { get; private set; }

        public ReadOnlyMemory<byte> Line(int i) => _bytes.AsMemory(_lines[i].Offset, _lines[i].Length);

        public ReadOnlySpan<byte> Canonical(int i) => _canonical[i].WrittenSpan;

        public bool Fill(LineReader reader)
        {
            Count = 0;
            int used = 0;
            while (Count < _lines.Length && reader.ReadLine() is { } line)
            {
                if (used + line.Length > _bytes.Length)
                {
                    Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, used + line.Length));
                }
                line.Span.CopyTo(_bytes.AsSpan(used));
                _lines[Count++] = (used, line.Length);
                used += line.Length;
            }
            return Count > 0;
        }

        public void Prepare(int i, string? account)
        {
            var item = new Prepared { PreviousHash = "", Hash = "" };
            try
            {
                using var record = JsonDocument.Parse(Line(i));
                var e = record.RootElement;
                item.Sequence = e.TryGetProperty("sequence", out var q) && q.TryGetInt64(out var n) ? n : null;
                if (item.Sequence is null || e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("sid", out var sid) || !e.TryGetProperty("account_sid", out var owner))
                {
                    item.Error = "not an audit record";
                }
                else if (!owner.ValueEquals(account))
                {
                    item.OtherAccount = owner.GetString();
                }
                else if (sid.ValueKind == JsonValueKind.String && sid.GetString()!.StartsWith("CP", StringComparison.Ordinal))
                {
                    item.IsCheckpoint = true;
                }
                else
                {
                    item.PreviousHash = e.GetProperty("previous_hash").GetString() ?? "";
                    item.Hash = e.GetProperty("hash").GetString() ?? "";
                    _canonical[i].ResetWrittenCount();
                    Jcs.Write(_canonical[i], e, Unhashed);
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                item.Error = $"not an audit record ({e.Message})";
            }
            Items[i] = item;
        }
    }

    /// <summary>The lines of a file as UTF-8, each valid until the next is read: no string per line, one buffer.</summary>
    internal sealed class LineReader(string path) : IDisposable
    {
        private readonly FileStream _file = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        private byte[] _buffer = new byte[1 << 20];
        private int _start, _end;
        private bool _eof;

        public ReadOnlyMemory<byte>? ReadLine()
        {
            while (true)
            {
                int newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var line = _buffer.AsMemory(_start, newline);
                    _start += newline + 1;
                    return line;
                }
                if (_eof)
                {
                    if (_start == _end)
                    {
                        return null;
                    }
                    var last = _buffer.AsMemory(_start, _end - _start);
                    _start = _end;
                    return last;
                }
                // Keep the unfinished line, make room, read on.
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                (_end, _start) = (_end - _start, 0);
                if (_end == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }
                int read = _file.Read(_buffer, _end, _buffer.Length - _end);
                _end += read;
                _eof = read == 0;
            }
        }

        public void Dispose() => _file.Dispose();
    }
}
