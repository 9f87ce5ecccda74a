namespace VoiceVault.Crypto;

/// <summary>Which AES-256-GCM implementation runs under the format code.</summary>
internal enum GcmEngineKind
{
    OpenSsl,
    Managed,
}

/// <summary>
/// One incremental AES-256-GCM operation (no associated data, 12-byte IV, 16-byte tag).
/// Two real implementations exist: OpenSSL EVP through P/Invoke (the fast path on Linux) and
/// BouncyCastle (portable). Both must produce identical bytes; the test suite runs under each.
/// </summary>
internal abstract class GcmEngine : IDisposable
{
    public const string SelectorVariable = "VOICEVAULT_GCM";

    /// <summary>
    /// Extra output room an <see cref="Update"/> call may need beyond its input length: an engine
    /// may emit bytes it held back from an earlier call.
    /// </summary>
    public const int MaxLag = 128;

    /// <summary>
    /// Processes <paramref name="input"/> and returns how many bytes were written to
    /// <paramref name="output"/>. In-place use (the same memory) is allowed when output starts at
    /// input's first byte and has <see cref="MaxLag"/> bytes of room past its end.
    /// </summary>
    public abstract int Update(ReadOnlySpan<byte> input, Span<byte> output);

    /// <summary>Ends an encryption: writes remaining output and the 16-byte tag.</summary>
    public abstract int FinishEncrypt(Span<byte> output, Span<byte> tag);

    /// <summary>Ends a decryption; throws <see cref="AuthenticationFailedException"/> when the tag does not verify.</summary>
    public abstract int FinishDecrypt(ReadOnlySpan<byte> tag, Span<byte> output);

    public abstract void Dispose();

    /// <summary>Lets a test pin the engine for the code it calls, without touching the process environment.</summary>
    internal static readonly AsyncLocal<GcmEngineKind?> Override = new();

    public static GcmEngineKind DefaultKind => Override.Value ?? Select(Environment.GetEnvironmentVariable(SelectorVariable));

    internal static GcmEngineKind Select(string? selected)
    {
        if (string.IsNullOrWhiteSpace(selected))
        {
            return OpenSslGcm.IsAvailable ? GcmEngineKind.OpenSsl : GcmEngineKind.Managed;
        }
        return selected.Trim().ToLowerInvariant() switch
        {
            "openssl" => OpenSslGcm.IsAvailable
                ? GcmEngineKind.OpenSsl
                : throw new PlatformNotSupportedException(
                    $"{SelectorVariable}=openssl, but no usable OpenSSL libcrypto was found on this machine; unset it to use the portable implementation."),
            "managed" or "bouncycastle" => GcmEngineKind.Managed,
            _ => throw new ArgumentException(
                $"{SelectorVariable}='{selected}' is not known; use 'openssl' or 'managed' (or leave it unset)."),
        };
    }

    public static GcmEngine Create(bool encrypt, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv) =>
        Create(DefaultKind, encrypt, key, iv);

    public static GcmEngine Create(GcmEngineKind kind, bool encrypt, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        if (key.Length != RecordingFormat.CekSize)
        {
            throw new ArgumentException($"The content key must be {RecordingFormat.CekSize} bytes (AES-256); got {key.Length}.", nameof(key));
        }
        if (iv.Length != RecordingFormat.IvSize)
        {
            throw new ArgumentException($"The IV must be {RecordingFormat.IvSize} bytes; got {iv.Length}.", nameof(iv));
        }
        return kind switch
        {
            GcmEngineKind.OpenSsl => new OpenSslGcm(encrypt, key, iv),
            _ => new ManagedGcm(encrypt, key, iv),
        };
    }
}
