using System.Globalization;
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
    /// <summary>
    /// A JSON value as read (an audit event or checkpoint from a file or the API), canonical: its
    /// members sorted, strings escaped as JCS says; numbers must be integers within ±2^53 (all an
    /// audit record holds) — anything else is refused rather than canonicalized wrongly.
    /// </summary>
    public static string Element(JsonElement element, Func<string, bool>? skip = null)
    {
        var json = new StringBuilder(512);
        Write(json, element, skip);
        return json.ToString();
    }

    private static void Write(StringBuilder json, JsonElement element, Func<string, bool>? skip)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                json.Append('{');
                bool first = true;
                foreach (var member in element.EnumerateObject().Where(m => skip is null || !skip(m.Name)).OrderBy(m => m.Name, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        json.Append(',');
                    }
                    first = false;
                    json.Append(String(member.Name)).Append(':');
                    // Nested objects keep every member: only the top level drops hash and url.
                    Write(json, member.Value, null);
                }
                json.Append('}');
                break;
            case JsonValueKind.Array:
                json.Append('[');
                int i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (i++ > 0)
                    {
                        json.Append(',');
                    }
                    Write(json, item, null);
                }
                json.Append(']');
                break;
            case JsonValueKind.String:
                json.Append(String(element.GetString()));
                break;
            case JsonValueKind.Number:
                json.Append(element.TryGetInt64(out var integer) ? Integer(integer) : throw new FormatException($"{element.GetRawText()} is not an integer: an audit record holds integers only"));
                break;
            case JsonValueKind.True:
                json.Append("true");
                break;
            case JsonValueKind.False:
                json.Append("false");
                break;
            default:
                json.Append("null");
                break;
        }
    }

    private const long MaxSafeInteger = (1L << 53) - 1;

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
