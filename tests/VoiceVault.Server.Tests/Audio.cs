using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Server.Tests;

internal static class Audio
{
    public static string CallSid() => "CA" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>A 16-bit PCM WAV at 8 kHz: random samples (no runs of silence) with a text marker woven in.</summary>
    public static byte[] Wav(int seconds, int channels = 1, string marker = "VOICEVAULT-PLAINTEXT-MARKER")
    {
        int dataBytes = seconds * 8000 * 2 * channels;
        var data = RandomNumberGenerator.GetBytes(dataBytes);
        var mark = Encoding.ASCII.GetBytes(marker);
        for (int at = 1000; at + mark.Length < dataBytes; at += 4000)
        {
            mark.CopyTo(data, at);
        }
        return VoiceVault.Tests.Shared.TestWav.Build(data, channels);
    }

    /// <summary>Whether any 64-byte run of <paramref name="plaintext"/> occurs in <paramref name="content"/>.</summary>
    public static bool ContainsAnyRun(byte[] content, byte[] plaintext)
    {
        // Every 64-byte run of the plaintext contains a whole 32-byte block at a multiple of 32.
        var blocks = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i + 32 <= plaintext.Length; i += 32)
        {
            blocks.Add(Convert.ToHexString(plaintext, i, 32));
        }
        for (int i = 0; i + 32 <= content.Length; i++)
        {
            if (blocks.Contains(Convert.ToHexString(content, i, 32)))
            {
                return true;
            }
        }
        return false;
    }
}
