using System.Diagnostics;

namespace VoiceVault.Crypto.Tests;

/// <summary>The openssl command line: an independent maker of key files.</summary>
internal static class Openssl
{
    public static byte[] Run(params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        using var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', args)} failed: {error}");
        return output.ToArray();
    }
}
