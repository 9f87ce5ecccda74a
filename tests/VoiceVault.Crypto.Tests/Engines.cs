namespace VoiceVault.Crypto.Tests;

/// <summary>Runs the format code called in this async flow under a chosen GCM engine.</summary>
internal sealed class EngineScope : IDisposable
{
    private readonly GcmEngineKind? _previous;

    public EngineScope(string engine)
    {
        _previous = GcmEngine.Override.Value;
        GcmEngine.Override.Value = Parse(engine);
    }

    /// <summary>Engine names for theories (xunit needs public parameter types).</summary>
    public static TheoryData<string> Both => new("openssl", "managed");

    public static GcmEngineKind Parse(string engine) => GcmEngine.Select(engine);

    public void Dispose() => GcmEngine.Override.Value = _previous;
}
