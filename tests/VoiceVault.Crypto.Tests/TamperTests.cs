namespace VoiceVault.Crypto.Tests;

/// <summary>Every way a stored recording can be wrong is an authentication failure (format.md, rejection rules).</summary>
public sealed class TamperTests
{
    private const int Size = 3 * 1024 * 1024 + 333;

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var kind in new[] { "openssl", "managed" })
        {
            foreach (var name in new[] { "flip-header", "flip-middle", "flip-last-block", "flip-tag", "truncate-1", "truncate-17", "extra-byte", "wrong-iv", "wrong-key", "other-recordings-cek" })
            {
                foreach (var form in new[] { "pipeline", "calling-thread", "async" })
                {
                    data.Add(kind, name, form);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Tampering_fails_authentication(string engine, string tamper, string form)
    {
        using var _ = new EngineScope(engine);
        var plaintext = TestData.Random(Size);
        using var cek = ContentKey.Generate();
        using var otherCek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var stored = TestData.Encrypt(plaintext, cek, iv);
        var key = cek;
        switch (tamper)
        {
            case "flip-header": stored[20] ^= 0x01; break;
            case "flip-middle": stored[Size / 2] ^= 0x80; break;
            case "flip-last-block": stored[Size - 3] ^= 0x10; break;
            case "flip-tag": stored[^1] ^= 0x01; break;
            case "truncate-1": stored = stored[..^1]; break;
            case "truncate-17": stored = stored[..^17]; break;
            case "extra-byte": stored = [.. stored, 0x00]; break;
            case "wrong-iv": iv[0] ^= 1; break;
            case "wrong-key": key = ContentKey.FromBytes(TestData.Random(32)); break;
            case "other-recordings-cek": key = otherCek; break;
        }
        var sink = new MemoryStream();
        await Assert.ThrowsAsync<AuthenticationFailedException>(() => TestData.DecryptAsync(form, new MemoryStream(stored), sink, key, iv));
    }
}
