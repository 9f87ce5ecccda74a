using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Crypto;

/// <summary>
/// RFC 8785 JSON Canonicalization for the values an audit event holds: strings, integers within
/// ±2^53, booleans, null, and objects and arrays of them. Object members sorted by their names'
/// UTF-16 code units; no whitespace; strings escaped as ECMAScript's JSON.stringify does.
/// </summary>
public static class Jcs
{
    private const long MaxSafeInteger = (1L << 53) - 1;

    /// <summary>
    /// A JSON value as read (an audit event or checkpoint from a file or the API), canonical: its
    /// members sorted, strings escaped as JCS says; numbers must be integers within ±2^53 (all an
    /// audit record holds) — anything else is refused rather than canonicalized wrongly.
    /// <paramref name="skip"/> names top-level members left out (<c>hash</c> and <c>url</c> of an event).
    /// </summary>
    public static string Element(JsonElement element, Func<string, bool>? skip = null)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        Write(buffer, element, skip is null ? [] : element.ValueKind == JsonValueKind.Object
            ? [.. element.EnumerateObject().Select(m => m.Name).Where(skip)] : []);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// <see cref="Element"/> as UTF-8 into <paramref name="output"/>, without the top-level members
    /// named in <paramref name="skip"/> (ASCII names). Strings without escapes are copied as read:
    /// their UTF-8 is already what JCS writes.
    /// </summary>
    public static void Write(IBufferWriter<byte> output, JsonElement element, ReadOnlySpan<string> skip)
    {
        ArgumentNullException.ThrowIfNull(output);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(output, element, skip);
                break;
            case JsonValueKind.Array:
                output.Write("["u8);
                int i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (i++ > 0)
                    {
                        output.Write(","u8);
                    }
                    Write(output, item, []);
                }
                output.Write("]"u8);
                break;
            case JsonValueKind.String:
                // The raw value comes with its quotes.
                WriteString(output, JsonMarshal.GetRawUtf8Value(element)[1..^1], element);
                break;
            case JsonValueKind.Number:
                if (!element.TryGetInt64(out var integer))
                {
                    throw new FormatException($"{element.GetRawText()} is not an integer: an audit record holds integers only");
                }
                output.Write(Encoding.ASCII.GetBytes(Integer(integer)));
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            default:
                output.Write("null"u8);
                break;
        }
    }

    private static void WriteObject(IBufferWriter<byte> output, JsonElement element, ReadOnlySpan<string> skip)
    {
        var members = ArrayPool<JsonProperty>.Shared.Rent(32);
        int count = 0;
        try
        {
            foreach (var member in element.EnumerateObject())
            {
                if (skip.Length > 0 && Skipped(JsonMarshal.GetRawUtf8PropertyName(member), skip))
                {
                    continue;
                }
                if (count == members.Length)
                {
                    var larger = ArrayPool<JsonProperty>.Shared.Rent(count * 2);
                    members.AsSpan(0, count).CopyTo(larger);
                    ArrayPool<JsonProperty>.Shared.Return(members);
                    members = larger;
                }
                members[count++] = member;
            }
            var sorted = members.AsSpan(0, count);
            sorted.Sort(CompareNames);
            output.Write("{"u8);
            for (int i = 0; i < sorted.Length; i++)
            {
                if (i > 0)
                {
                    output.Write(","u8);
                }
                WriteString(output, JsonMarshal.GetRawUtf8PropertyName(sorted[i]), default, sorted[i].Name);
                output.Write(":"u8);
                Write(output, sorted[i].Value, []);
            }
            output.Write("}"u8);
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(members);
        }
    }

    private static bool Skipped(ReadOnlySpan<byte> name, ReadOnlySpan<string> skip)
    {
        foreach (var s in skip)
        {
            if (name.Length == s.Length && Encoding.ASCII.GetByteCount(s) == s.Length && name.SequenceEqual(Encoding.ASCII.GetBytes(s)))
            {
                return true;
            }
        }
        return false;
    }

    // Members sort by their names' UTF-16 code units. Raw UTF-8 without escapes orders the same as
    // UTF-16 as long as every character is in the BMP below the surrogates; anything else compares as strings.
    private static int CompareNames(JsonProperty a, JsonProperty b)
    {
        var x = JsonMarshal.GetRawUtf8PropertyName(a);
        var y = JsonMarshal.GetRawUtf8PropertyName(b);
        return Plain(x) && Plain(y) ? x.SequenceCompareTo(y) : string.CompareOrdinal(a.Name, b.Name);
    }

    // ASCII without escapes: its bytes are its UTF-16 code units.
    private static bool Plain(ReadOnlySpan<byte> raw) => raw.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0 && !raw.Contains((byte)'\\');

    // A string as read: copied when it holds no escape (raw JSON text without one already is JCS's
    // form: only '"', '\' and controls are escaped, and none of them can stand raw); otherwise
    // decoded and written as JCS escapes it.
    private static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> raw, JsonElement element, string? name = null)
    {
        if (!raw.Contains((byte)'\\'))
        {
            output.Write("\""u8);
            output.Write(raw);
            output.Write("\""u8);
            return;
        }
        output.Write(Encoding.UTF8.GetBytes(String(name ?? element.GetString())));
    }

    /// <summary>A value built in code (strings, integers, booleans, null, dictionaries and lists of them), canonical.</summary>
    public static string Value(object? value) => value switch
    {
        null => "null",
        string s => String(s),
        bool b => b ? "true" : "false",
        int or long or short or byte or uint or ushort or sbyte => Integer(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        IReadOnlyDictionary<string, object?> map => Object(new SortedDictionary<string, string>(map.ToDictionary(m => m.Key, m => Value(m.Value)), StringComparer.Ordinal)),
        IEnumerable<object?> list => "[" + string.Join(',', list.Select(Value)) + "]",
        _ => throw new ArgumentException($"An audit detail cannot be a {value.GetType().Name}: only strings, integers, booleans, null, objects and arrays are canonical here."),
    };

    /// <summary>An integer as JCS writes it; refused beyond ±2^53, where an IEEE double (and so JavaScript) loses it.</summary>
    public static string Integer(long value) => Math.Abs(value) <= MaxSafeInteger
        ? value.ToString(CultureInfo.InvariantCulture)
        : throw new ArgumentOutOfRangeException(nameof(value), "An audit detail's integer must lie within ±2^53 (an IEEE double represents it exactly).");

    /// <summary>An object from members already canonical, sorted by their names' UTF-16 code units.</summary>
    public static string Object(SortedDictionary<string, string> members) =>
        "{" + string.Join(',', members.Select(m => String(m.Key) + ":" + m.Value)) + "}";

    /// <summary>A string as JCS (ECMAScript's JSON.stringify) escapes it; null as <c>null</c>.</summary>
    public static string String(string? value)
    {
        if (value is null)
        {
            return "null";
        }
        var json = new StringBuilder(value.Length + 2).Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])))
                    {
                        throw new ArgumentException("An audit string holds a lone surrogate, which has no UTF-8 form.");
                    }
                    else
                    {
                        json.Append(c);
                        if (char.IsHighSurrogate(c))
                        {
                            json.Append(value[++i]);
                        }
                    }
                    break;
            }
        }
        return json.Append('"').ToString();
    }
}
