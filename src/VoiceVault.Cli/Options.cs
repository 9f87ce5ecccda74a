using System.CommandLine;

namespace VoiceVault.Cli;

/// <summary>Options several commands share.</summary>
internal static class Options
{
    public static Option<bool> Json() => new("--json") { Description = "Write the result as JSON on stdout, for scripts." };

    public static Option<bool> Quiet() => new("--quiet", "-q") { Description = "No progress or summary on stderr." };

    /// <summary>--key: a private key file, or a PKCS#11 URI naming a key in a token.</summary>
    public static Option<string?> PrivateKey(string what = "The private key") => new("--key")
    {
        Description = what + ": a file (PKCS#1, PKCS#8 or encrypted PKCS#8; PEM or DER) or a PKCS#11 URI (pkcs11:token=…;object=…).",
    };

    public static Option<FileInfo?> PassphraseFile() => new("--passphrase-file")
    {
        Description = "Read the private key's passphrase from this file (else VOICEVAULT_PASSPHRASE, else a prompt). Never given on the command line.",
    };
}
