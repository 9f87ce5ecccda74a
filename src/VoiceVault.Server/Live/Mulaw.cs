namespace VoiceVault.Server.Live;

/// <summary>G.711 μ-law, as Twilio Media Streams carry it: 8-bit samples to 16-bit linear PCM.</summary>
public static class Mulaw
{
    private static readonly short[] Table = Build();

    public static short Decode(byte value) => Table[value];

    /// <summary>The sample Twilio sends for silence (0xFF decodes to 0).</summary>
    public const byte Silence = 0xFF;

    private static short[] Build()
    {
        var table = new short[256];
        for (int i = 0; i < 256; i++)
        {
            int u = ~i & 0xFF;
            int exponent = (u >> 4) & 0x07;
            int mantissa = u & 0x0F;
            int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
            table[i] = (short)((u & 0x80) != 0 ? -magnitude : magnitude);
        }
        return table;
    }
}
