using System.Buffers.Text;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VoiceVault.Crypto;

/// <summary>
/// What a reader needs to decrypt one recording: the public-key SID it was encrypted to, the
/// RSA-OAEP-wrapped CEK and the IV. Reads every spelling and container Twilio uses (docs/format.md
/// §Encryption details); writes the REST and the status-callback shapes.
/// </summary>
public sealed partial class EncryptionDetails
{
    private const int MinimumWrappedCek = RecordingFormat.MinimumRsaBits / 8;

    /// <summary>Creates details; the IV must be 12 bytes and the wrapped CEK at least 256.</summary>
    public EncryptionDetails(string? publicKeySid, byte[] encryptedCek, byte[] iv)
    {
        ArgumentNullException.ThrowIfNull(encryptedCek);
        ArgumentNullException.ThrowIfNull(iv);
        if (publicKeySid is not null && !SidPattern().IsMatch(publicKeySid))
        {
            throw new EncryptionDetailsException($"public key SID '{Truncate(publicKeySid)}' is not CR followed by 32 lower-case hex digits");
        }
        if (iv.Length != RecordingFormat.IvSize)
        {
            throw new EncryptionDetailsException($"the IV is {iv.Length} bytes; rsa-aes uses a {RecordingFormat.IvSize}-byte IV", "the iv field was damaged, or it is not from rsa-aes details");
        }
        if (encryptedCek.Length < MinimumWrappedCek)
        {
            throw new EncryptionDetailsException($"the wrapped CEK is {encryptedCek.Length} bytes; an RSA-OAEP-wrapped key of a {RecordingFormat.MinimumRsaBits}-bit or larger RSA key is at least {MinimumWrappedCek}", "the encryption_cek field is damaged or truncated");
        }
        PublicKeySid = publicKeySid;
        EncryptedCek = encryptedCek;
        Iv = iv;
    }

    /// <summary>The CR… SID of the public key the CEK was wrapped to; null when the source did not say.</summary>
    public string? PublicKeySid { get; }

    /// <summary>The RSA-OAEP-SHA256 wrapped content key.</summary>
    public byte[] EncryptedCek { get; }

    /// <summary>The 12-byte GCM IV.</summary>
    public byte[] Iv { get; }

    /// <summary>
    /// Parses a whole Recording resource JSON, its <c>encryption_details</c> object, the callback's
    /// <c>EncryptionDetails</c> JSON string (also JSON-quoted, or inside a form body).
    /// </summary>
    /// <exception cref="EncryptionDetailsException">Nothing usable was found; the message says what.</exception>
    /// <exception cref="RecordingNotEncryptedException">The source says the recording is not encrypted.</exception>
    public static EncryptionDetails Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new EncryptionDetailsException("the encryption details are empty");
        }
        if (trimmed[0] is not ('{' or '"') && trimmed.Contains("EncryptionDetails=", StringComparison.Ordinal))
        {
            return ParseForm(trimmed);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(trimmed);
        }
        catch (JsonException e)
        {
            throw new EncryptionDetailsException($"the encryption details are not valid JSON ({e.Message})", "give the Recording resource JSON, its encryption_details object, or the callback's EncryptionDetails value", e);
        }
        using (document)
        {
            return FromElement(document.RootElement, depth: 0);
        }
    }

    /// <summary>The REST shape (Recording <c>encryption_details</c>), with the IV under both names.</summary>
    public string ToRestJson() => Write(WriteRest);

    /// <summary>The status-callback shape (the <c>EncryptionDetails</c> form field).</summary>
    public string ToCallbackJson() => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", RecordingFormat.Type);
        w.WriteString("public_key_sid", PublicKeySid);
        w.WriteString("encrypted_cek", Convert.ToBase64String(EncryptedCek));
        w.WriteString("iv", Convert.ToBase64String(Iv));
        w.WriteEndObject();
    });

    /// <summary>Writes the REST shape into a larger document (the Recording resource).</summary>
    public void WriteRest(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("type", RecordingFormat.Type);
        writer.WriteString("encryption_public_key_sid", PublicKeySid);
        writer.WriteString("encryption_cek", Convert.ToBase64String(EncryptedCek));
        writer.WriteString("iv", Convert.ToBase64String(Iv));
        writer.WriteString("encryption_iv", Convert.ToBase64String(Iv));
        writer.WriteEndObject();
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static EncryptionDetails FromElement(JsonElement element, int depth)
    {
        if (depth > 2)
        {
            throw new EncryptionDetailsException("the encryption details are nested too deeply");
        }
        if (element.ValueKind == JsonValueKind.String)
        {
            // The callback's EncryptionDetails value, kept as a JSON string.
            return Parse(element.GetString()!);
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new EncryptionDetailsException($"expected a JSON object with encryption details, found {element.ValueKind.ToString().ToLowerInvariant()}");
        }
        foreach (var container in (ReadOnlySpan<string>)["encryption_details", "EncryptionDetails"])
        {
            if (element.TryGetProperty(container, out var inner))
            {
                if (inner.ValueKind == JsonValueKind.Null)
                {
                    var sid = element.TryGetProperty("sid", out var s) && s.ValueKind == JsonValueKind.String ? $" {s.GetString()}" : "";
                    throw new RecordingNotEncryptedException($"recording{sid} is not encrypted ({container} is null)");
                }
                return FromElement(inner, depth + 1);
            }
        }
        if (element.TryGetProperty("type", out var typeElement))
        {
            // A string's value, or any other JSON value as written (5, true, null, {...}).
            var type = typeElement.ToString();
            if (type != RecordingFormat.Type)
            {
                throw new EncryptionDetailsException($"encryption type '{Truncate(type)}' is not supported; only '{RecordingFormat.Type}' exists");
            }
        }
        var keySid = Field(element, "public_key_sid", "encryption_public_key_sid", required: false);
        var cek = Field(element, "encrypted_cek", "encryption_cek", required: true)!;
        var iv = Field(element, "iv", "encryption_iv", required: true)!;
        return new EncryptionDetails(keySid, Base64(cek, "encrypted CEK"), Base64(iv, "IV"));
    }

    private static EncryptionDetails ParseForm(string body)
    {
        foreach (var pair in body.Split('&'))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && Uri.UnescapeDataString(pair[..eq].Replace('+', ' ')) == "EncryptionDetails")
            {
                return Parse(Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' ')));
            }
        }
        throw new EncryptionDetailsException("the form body has no EncryptionDetails field");
    }

    private static string? Field(JsonElement element, string name, string alias, bool required)
    {
        string? a = StringProperty(element, name);
        string? b = StringProperty(element, alias);
        if (a is not null && b is not null && a != b)
        {
            throw new EncryptionDetailsException($"'{name}' and '{alias}' disagree; the details are inconsistent");
        }
        var value = a ?? b;
        if (value is null && required)
        {
            throw new EncryptionDetailsException(
                $"the encryption details have no '{name}' (or '{alias}') field",
                "give the Recording resource JSON, its encryption_details object, or the callback's EncryptionDetails value");
        }
        return value;
    }

    private static string? StringProperty(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new EncryptionDetailsException($"'{name}' must be a string, found {value.ValueKind.ToString().ToLowerInvariant()}");
    }

    private static byte[] Base64(string value, string what)
    {
        // RFC 4648 §4: the standard alphabet with padding; nothing else is accepted.
        var bytes = Encoding.ASCII.GetBytes(value);
        if (!Base64Validate(bytes))
        {
            throw new EncryptionDetailsException($"the {what} is not standard base64 (RFC 4648 §4, with padding): '{Truncate(value)}'");
        }
        return Convert.FromBase64String(value);
    }

    private static bool Base64Validate(byte[] bytes) =>
        bytes.Length % 4 == 0 && System.Buffers.Text.Base64.IsValid(bytes, out _) && bytes.AsSpan().IndexOfAny(" \t\r\n"u8) < 0;

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [GeneratedRegex("^CR[0-9a-f]{32}$")]
    internal static partial Regex SidPattern();
}

internal static class EncryptionDetailsSid
{
    public static bool IsValid(string sid) => EncryptionDetails.SidPattern().IsMatch(sid);
}
