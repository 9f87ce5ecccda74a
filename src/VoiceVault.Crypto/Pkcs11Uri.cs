using System.Text;

namespace VoiceVault.Crypto;

/// <summary>
/// A PKCS#11 URI (RFC 7512) naming an RSA private key in a token, e.g.
/// <c>pkcs11:token=vault;object=recordings-2026?module-path=/usr/lib/softhsm/libsofthsm2.so</c>.
/// Path attributes select the token and the object; query attributes say which module to load
/// and where the PIN comes from. Attributes this reader does not know are refused, unless
/// vendor-specific (<c>x-…</c>), so that a misspelt selector never quietly picks another key.
/// </summary>
public sealed class Pkcs11Uri
{
    /// <summary>Where the module comes from when the URI has no <c>module-path</c>.</summary>
    public const string ModuleVariable = "VOICEVAULT_PKCS11_MODULE";

    /// <summary>Where the PIN comes from when the URI has no <c>pin-source</c> or <c>pin-value</c>.</summary>
    public const string PinVariable = "VOICEVAULT_PKCS11_PIN";

    private static readonly string[] PathAttributes = ["token", "object", "id", "type", "manufacturer", "model", "serial", "slot-id"];
    private static readonly string[] QueryAttributes = ["module-path", "module-name", "pin-source", "pin-value"];

    private readonly Dictionary<string, byte[]> _path;
    private readonly Dictionary<string, byte[]> _query;

    private Pkcs11Uri(string text, Dictionary<string, byte[]> path, Dictionary<string, byte[]> query)
    {
        Text = text;
        _path = path;
        _query = query;
    }

    /// <summary>The URI as given.</summary>
    public string Text { get; }

    /// <summary>The token's label (<c>token=</c>).</summary>
    public string? Token => PathText("token");

    /// <summary>The key's label (<c>object=</c>, CKA_LABEL).</summary>
    public string? Object => PathText("object");

    /// <summary>The key's CKA_ID (<c>id=</c>, percent-encoded bytes).</summary>
    public byte[]? Id => _path.GetValueOrDefault("id");

    /// <summary>The token's manufacturer, model and serial number, when the URI names them.</summary>
    public string? Manufacturer => PathText("manufacturer");

    /// <inheritdoc cref="Manufacturer"/>
    public string? Model => PathText("model");

    /// <inheritdoc cref="Manufacturer"/>
    public string? Serial => PathText("serial");

    /// <summary>The slot's number (<c>slot-id=</c>, decimal).</summary>
    public ulong? SlotId { get; private init; }

    /// <summary>The URI without its PIN, for messages and logs.</summary>
    public string Redacted => System.Text.RegularExpressions.Regex.Replace(Text, "(?i)(pin-value=)[^&]*", "$1…");

    /// <summary>True when <paramref name="text"/> is meant as a PKCS#11 URI rather than a file name.</summary>
    public static bool Looks(string? text) => text is not null && text.StartsWith("pkcs11:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads a PKCS#11 URI.</summary>
    /// <exception cref="KeyFormatException">It is not one, or it names attributes twice or unknown ones.</exception>
    public static Pkcs11Uri Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (!Looks(text))
        {
            throw new KeyFormatException($"'{text}' is not a PKCS#11 URI (it must start with pkcs11:)", Example);
        }
        var rest = text["pkcs11:".Length..];
        int question = rest.IndexOf('?', StringComparison.Ordinal);
        var path = Attributes(question < 0 ? rest : rest[..question], ';', PathAttributes, "path");
        var query = Attributes(question < 0 ? "" : rest[(question + 1)..], '&', QueryAttributes, "query");
        ulong? slot = null;
        if (path.TryGetValue("slot-id", out var slotBytes))
        {
            if (!ulong.TryParse(Encoding.UTF8.GetString(slotBytes), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            {
                throw new KeyFormatException($"slot-id in '{text}' is not a decimal number", Example);
            }
            slot = n;
        }
        if (path.TryGetValue("type", out var type) && Encoding.UTF8.GetString(type) != "private")
        {
            throw new KeyFormatException(
                $"'{text}' selects objects of type '{Encoding.UTF8.GetString(type)}'; a recording key is a private key (type=private, or leave type out)");
        }
        if (!path.ContainsKey("object") && !path.ContainsKey("id"))
        {
            throw new KeyFormatException($"'{text}' does not say which key: give object=LABEL (or id=…)", Example);
        }
        return new Pkcs11Uri(text, path, query) { SlotId = slot };
    }

    /// <summary>The PKCS#11 module to load: <c>module-path</c>, else <see cref="ModuleVariable"/>.</summary>
    public string ModulePath(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (_query.TryGetValue("module-path", out var path))
        {
            return Encoding.UTF8.GetString(path);
        }
        if (environment(ModuleVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        throw new KeyFormatException(
            _query.ContainsKey("module-name")
                ? $"module-name= is not enough to find a PKCS#11 module; give its file"
                : $"no PKCS#11 module for '{Redacted}'",
            $"set {ModuleVariable}=/path/to/module.so (SoftHSM2 on Debian: /usr/lib/softhsm/libsofthsm2.so), or add ?module-path=… to the URI");
    }

    /// <summary>
    /// The user PIN: <c>pin-value</c>, else the first line of the <c>pin-source</c> file (a path or
    /// a <c>file:</c> URI), else <see cref="PinVariable"/>; null when none is given.
    /// </summary>
    public byte[]? Pin(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (_query.TryGetValue("pin-value", out var value))
        {
            return (byte[])value.Clone();
        }
        if (_query.TryGetValue("pin-source", out var source))
        {
            var location = Encoding.UTF8.GetString(source);
            var file = location.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? LocalFile(location) : location;
            if (!File.Exists(file))
            {
                throw new KeyFormatException($"the PIN file '{file}' named by pin-source= does not exist");
            }
            var text = File.ReadAllText(file, Encoding.UTF8);
            int end = text.IndexOfAny(['\r', '\n']);
            return Encoding.UTF8.GetBytes(end < 0 ? text : text[..end]);
        }
        return environment(PinVariable) is { } pin ? Encoding.UTF8.GetBytes(pin) : null;
    }

    // file:/path, file:///path or file://localhost/path (RFC 8089); no other host.
    private static string LocalFile(string uri)
    {
        var rest = uri["file:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            int slash = rest.IndexOf('/', 2);
            var host = slash < 0 ? rest[2..] : rest[2..slash];
            if (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                throw new KeyFormatException($"pin-source '{uri}' names another host; a PIN file must be local");
            }
            rest = slash < 0 ? "/" : rest[slash..];
        }
        return Uri.UnescapeDataString(rest);
    }

    private const string Example = "example: pkcs11:token=vault;object=recordings?module-path=/usr/lib/softhsm/libsofthsm2.so";

    private string? PathText(string name) => _path.TryGetValue(name, out var value) ? Encoding.UTF8.GetString(value) : null;

    private static Dictionary<string, byte[]> Attributes(string part, char separator, string[] known, string where)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (part.Length == 0)
        {
            return result;
        }
        foreach (var item in part.Split(separator))
        {
            int equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new KeyFormatException($"'{item}' in a PKCS#11 URI is not name=value", Example);
            }
            var name = item[..equals].ToLowerInvariant();
            if (!known.Contains(name) && !name.StartsWith("x-", StringComparison.Ordinal))
            {
                throw new KeyFormatException(
                    $"'{name}' is not a PKCS#11 URI {where} attribute this tool knows",
                    $"{where} attributes: {string.Join(", ", known)}");
            }
            if (!result.TryAdd(name, Unescape(item[(equals + 1)..])))
            {
                throw new KeyFormatException($"'{name}' appears twice in a PKCS#11 URI");
            }
        }
        return result;
    }

    // RFC 7512 values are percent-encoded bytes (an id is binary; labels are UTF-8).
    private static byte[] Unescape(string value)
    {
        var bytes = new List<byte>(value.Length);
        int i = 0;
        while (i < value.Length)
        {
            int percent = value.IndexOf('%', i);
            int end = percent < 0 ? value.Length : percent;
            bytes.AddRange(Encoding.UTF8.GetBytes(value[i..end]));
            if (percent < 0)
            {
                break;
            }
            if (percent + 2 >= value.Length || !Uri.IsHexDigit(value[percent + 1]) || !Uri.IsHexDigit(value[percent + 2]))
            {
                throw new KeyFormatException($"'{value}' in a PKCS#11 URI has a % not followed by two hex digits");
            }
            bytes.Add(Convert.ToByte(value.Substring(percent + 1, 2), 16));
            i = percent + 3;
        }
        return [.. bytes];
    }
}
