using System.Net.Sockets;
using VoiceVault.Server.Core;

namespace VoiceVault.Server;

/// <summary>
/// What the operator reads when the vault cannot start: one <c>error:</c> line saying what is wrong
/// and one <c>hint:</c> line saying what to do, on stderr, and exit code 2. Failures the vault knows
/// the cause of arrive as <see cref="StartupException"/>; the rest that a start can meet (a database
/// that does not answer, a data folder it may not write, a port already taken) are recognised here.
/// The operator commands (<c>migrate</c>, the copies) report theirs the same way.
/// Anything else is a bug and keeps its stack trace.
/// </summary>
public static class StartupFailure
{
    public const int ExitCode = 2;

    /// <summary>The two lines for <paramref name="e"/>, or null when it is not a start-up failure the operator can fix.</summary>
    public static (string Error, string Hint)? Explain(Exception e) => e switch
    {
        StartupException s => (s.Message, s.Hint),
        Npgsql.NpgsqlException pg => ($"cannot use the PostgreSQL database: {Innermost(pg)}",
            "check ConnectionStrings:VoiceVault (Host, Port, Username, Password, Database) and that PostgreSQL runs and accepts this user"),
        Microsoft.Data.Sqlite.SqliteException sqlite => ($"cannot use the embedded database: {sqlite.Message}",
            "check that VoiceVault:DataDir is a folder this user may write, on a local disk"),
        UnauthorizedAccessException denied => ($"{denied.Message}", "run the vault as a user that may write VoiceVault:DataDir, or point it at another folder"),
        IOException io when io.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || io.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
            (io.Message.TrimEnd('.'), "another process listens there: stop it, or give the vault another address with --urls http://127.0.0.1:PORT"),
        _ => null,
    };

    /// <summary>Writes the two lines for a failure <see cref="Explain"/> recognises; the exit code.</summary>
    public static int Report(Exception e, TextWriter error)
    {
        var explained = Explain(e) ?? throw new ArgumentException("not a start-up failure", nameof(e), e);
        error.WriteLine($"error: {OneLine(explained.Error)}");
        error.WriteLine($"hint: {OneLine(explained.Hint)}");
        return ExitCode;
    }

    private static string Innermost(Exception e)
    {
        var messages = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            if (!string.IsNullOrWhiteSpace(current.Message) && !messages.Any(m => m.Contains(current.Message, StringComparison.Ordinal)))
            {
                messages.Add(current.Message.TrimEnd('.'));
            }
        }
        return string.Join(": ", messages);
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
