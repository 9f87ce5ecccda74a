using System.Diagnostics;
using System.Security.Cryptography;

namespace VoiceVault.Tests.Shared;

/// <summary>
/// openCryptoki's software token (Debian's opencryptoki, slot 3), the token here that runs
/// CKM_RSA_PKCS_OAEP with SHA-256 inside itself. Its store is the machine's, so each use
/// re-initialises the token (wiping it) under a made-up label and PIN. scripts/test.sh
/// installs it and starts its slot daemon (pkcsslotd); without them the tests say so.
/// </summary>
internal sealed class OpenCryptoki
{
    private const string SoPin = "87654321"; // openCryptoki's documented initial SO PIN, not a secret

    public static string Module => System.Environment.GetEnvironmentVariable("VOICEVAULT_TEST_OCK_MODULE") ?? "/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so";

    public string Label { get; } = "vv" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    public string Pin { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>Wipes and re-initialises the software token.</summary>
    public static OpenCryptoki Fresh()
    {
        if (!File.Exists(Module))
        {
            throw new InvalidOperationException($"openCryptoki's module '{Module}' is missing: install Debian's opencryptoki and start pkcsslotd (scripts/test.sh does)");
        }
        var token = new OpenCryptoki();
        Tool("--slot", "3", "--init-token", "--so-pin", SoPin, "--label", token.Label);
        Tool("--slot", "3", "--login", "--login-type", "so", "--so-pin", SoPin, "--init-pin", "--new-pin", token.Pin);
        return token;
    }

    /// <summary>What a voicevault process needs: module and PIN; OAEP in the token (the default).</summary>
    public Dictionary<string, string> Environment() => new()
    {
        ["VOICEVAULT_PKCS11_MODULE"] = Module,
        ["VOICEVAULT_PKCS11_PIN"] = Pin,
    };

    private static void Tool(params string[] args)
    {
        var start = new ProcessStartInfo("pkcs11-tool") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--module");
        start.ArgumentList.Add(Module);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pkcs11-tool {string.Join(' ', args.Where(a => a != SoPin))} failed ({process.ExitCode}): {error.Result} (is pkcsslotd running?)");
        }
    }
}
