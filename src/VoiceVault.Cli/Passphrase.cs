using System.Text;

namespace VoiceVault.Cli;

/// <summary>
/// Where a passphrase for an encrypted PKCS#8 key comes from: the VOICEVAULT_PASSPHRASE variable,
/// a file, or a prompt on the terminal — never a command-line argument, which other users can read
/// in the process list.
/// </summary>
internal static class Passphrase
{
    public const string Variable = "VOICEVAULT_PASSPHRASE";

    public static Func<char[]?> Source(FileInfo? file)
    {
        // A typed passphrase is asked once per run (a keyring may hold several protected keys);
        // each caller gets its own copy, which the key loader clears after use.
        char[]? typed = null;
        return () =>
        {
            var found = Find(file);
            if (found is not null)
            {
                return found;
            }
            typed ??= Prompt("passphrase for the private key: ");
            return typed is null ? null : (char[])typed.Clone();
        };
    }

    private static char[]? Find(FileInfo? file)
    {
        if (file is not null)
        {
            if (!file.Exists)
            {
                throw new CliException($"passphrase file '{file.FullName}' does not exist");
            }
            var text = File.ReadAllText(file.FullName, Encoding.UTF8);
            int end = text.IndexOfAny(['\r', '\n']);
            return (end < 0 ? text : text[..end]).ToCharArray();
        }
        var fromEnvironment = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment.ToCharArray();
        }
        return null;
    }

    public static char[]? Prompt(string question)
    {
        if (Console.IsInputRedirected || Console.IsErrorRedirected)
        {
            return null;
        }
        Console.Error.Write(question);
        var typed = new List<char>();
        try
        {
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                {
                    break;
                }
                if (key.Key == ConsoleKey.Backspace)
                {
                    if (typed.Count > 0)
                    {
                        typed[^1] = '\0';
                        typed.RemoveAt(typed.Count - 1);
                    }
                    continue;
                }
                typed.Add(key.KeyChar);
            }
            Console.Error.WriteLine();
            return [.. typed];
        }
        finally
        {
            for (int i = 0; i < typed.Count; i++)
            {
                typed[i] = '\0';
            }
        }
    }
}
