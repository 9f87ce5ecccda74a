namespace VoiceVault.Crypto.Tests;

/// <summary>One known-answer vector from vectors/aes256gcm.txt.</summary>
public sealed record GcmVector(int Line, byte[] Key, byte[] Iv, byte[] Plaintext, byte[] Ciphertext, byte[] Tag, string Expect)
{
    public override string ToString() => $"line {Line} ({Expect}, {Ciphertext.Length} bytes)";

    public static IEnumerable<GcmVector> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "vectors", "aes256gcm.txt");
        var fields = new Dictionary<string, string>();
        int start = 0;
        int number = 0;
        foreach (var raw in File.ReadLines(path).Append(""))
        {
            number++;
            var line = raw.Trim();
            if (line.StartsWith('#'))
            {
                continue;
            }
            if (line.Length == 0)
            {
                if (fields.Count > 0)
                {
                    yield return new GcmVector(start,
                        Convert.FromHexString(fields["key"]), Convert.FromHexString(fields["iv"]),
                        Convert.FromHexString(fields["pt"]), Convert.FromHexString(fields["ct"]),
                        Convert.FromHexString(fields["tag"]), fields["expect"]);
                    fields.Clear();
                }
                continue;
            }
            if (fields.Count == 0)
            {
                start = number;
            }
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            fields[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
    }
}
