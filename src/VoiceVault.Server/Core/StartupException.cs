namespace VoiceVault.Server.Core;

/// <summary>
/// A setting or a dependency the vault cannot start with. The operator sees the message as an
/// <c>error:</c> line and the hint as a <c>hint:</c> line, with no stack trace (exit code 2): at
/// start the fault is the configuration's, and the trace would only bury the one line that says so.
/// </summary>
public sealed class StartupException(string message, string hint, Exception? inner = null) : InvalidOperationException(message, inner)
{
    /// <summary>What to do about it, in one line.</summary>
    public string Hint { get; } = hint;
}
