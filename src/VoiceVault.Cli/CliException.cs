namespace VoiceVault.Cli;

/// <summary>A failure the user can act on: printed as <c>error:</c> and <c>hint:</c> lines, exit code 1.</summary>
internal sealed class CliException(string message, string? hint = null) : Exception(message)
{
    public string? Hint { get; } = hint;
}
