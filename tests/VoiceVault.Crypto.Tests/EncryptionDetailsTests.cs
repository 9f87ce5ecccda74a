using System.Text.Json;

namespace VoiceVault.Crypto.Tests;

public sealed class EncryptionDetailsTests
{
    private const string Sid = "CR0123456789abcdef0123456789abcdef";
    private static readonly byte[] Cek = TestData.Random(256);
    private static readonly byte[] Iv = TestData.Random(12);
    private static readonly string CekB64 = Convert.ToBase64String(Cek);
    private static readonly string IvB64 = Convert.ToBase64String(Iv);

    public static TheoryData<string> Spellings() => new()
    {
        // REST encryption_details, with iv, with encryption_iv, and with both.
        $$"""{"type":"rsa-aes","encryption_public_key_sid":"{{Sid}}","encryption_cek":"{{CekB64}}","iv":"{{IvB64}}"}""",
        $$"""{"type":"rsa-aes","encryption_public_key_sid":"{{Sid}}","encryption_cek":"{{CekB64}}","encryption_iv":"{{IvB64}}"}""",
        $$"""{"type":"rsa-aes","encryption_public_key_sid":"{{Sid}}","encryption_cek":"{{CekB64}}","iv":"{{IvB64}}","encryption_iv":"{{IvB64}}"}""",
        // The callback's EncryptionDetails value.
        $$"""{"type":"rsa-aes","public_key_sid":"{{Sid}}","encrypted_cek":"{{CekB64}}","iv":"{{IvB64}}"}""",
        // A whole Recording resource.
        $$"""{"sid":"RE0123456789abcdef0123456789abcdef","status":"completed","encryption_details":{"type":"rsa-aes","encryption_public_key_sid":"{{Sid}}","encryption_cek":"{{CekB64}}","iv":"{{IvB64}}"},"duration":"4"}""",
        // The callback value kept as a JSON string, alone or in a stored form.
        JsonSerializer.Serialize($$"""{"type":"rsa-aes","public_key_sid":"{{Sid}}","encrypted_cek":"{{CekB64}}","iv":"{{IvB64}}"}"""),
        $$"""{"RecordingSid":"RE0123456789abcdef0123456789abcdef","EncryptionDetails":{{JsonSerializer.Serialize($$"""{"type":"rsa-aes","public_key_sid":"{{Sid}}","encrypted_cek":"{{CekB64}}","iv":"{{IvB64}}"}""")}}}""",
        // The raw callback form body.
        "RecordingSid=RE0123456789abcdef0123456789abcdef&EncryptionDetails=" + Uri.EscapeDataString($$"""{"type":"rsa-aes","public_key_sid":"{{Sid}}","encrypted_cek":"{{CekB64}}","iv":"{{IvB64}}"}""") + "&RecordingStatus=completed",
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void Every_spelling_and_container_parses_to_the_same_details(string text)
    {
        var details = EncryptionDetails.Parse(text);
        Assert.Equal(Sid, details.PublicKeySid);
        Assert.Equal(Cek, details.EncryptedCek);
        Assert.Equal(Iv, details.Iv);
    }

    [Fact]
    public void The_REST_shape_carries_both_iv_spellings()
    {
        var json = JsonDocument.Parse(new EncryptionDetails(Sid, Cek, Iv).ToRestJson()).RootElement;
        Assert.Equal("rsa-aes", json.GetProperty("type").GetString());
        Assert.Equal(Sid, json.GetProperty("encryption_public_key_sid").GetString());
        Assert.Equal(CekB64, json.GetProperty("encryption_cek").GetString());
        Assert.Equal(IvB64, json.GetProperty("iv").GetString());
        Assert.Equal(IvB64, json.GetProperty("encryption_iv").GetString());
        Assert.Equal(5, json.EnumerateObject().Count());
    }

    [Fact]
    public void The_callback_shape_uses_the_callback_names()
    {
        var text = new EncryptionDetails(Sid, Cek, Iv).ToCallbackJson();
        Assert.Equal($$"""{"type":"rsa-aes","public_key_sid":"{{Sid}}","encrypted_cek":"{{CekB64}}","iv":"{{IvB64}}"}""", text);
        var back = EncryptionDetails.Parse(text);
        Assert.Equal(Cek, back.EncryptedCek);
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { $$"""{"type":"rsa-ecb","encryption_cek":"{{CekB64}}","iv":"{{IvB64}}"}""", "'rsa-ecb' is not supported" },
        { $$"""{"type":"rsa-aes","encryption_cek":"{{CekB64}}"}""", "no 'iv'" },
        { $$"""{"type":"rsa-aes","iv":"{{IvB64}}"}""", "no 'encrypted_cek'" },
        { $$"""{"type":"rsa-aes","encryption_cek":"not base64!","iv":"{{IvB64}}"}""", "not standard base64" },
        { $$"""{"type":"rsa-aes","encryption_cek":"{{CekB64.TrimEnd('=')}}x","iv":"{{IvB64}}"}""", "not standard base64" },
        { $$"""{"type":"rsa-aes","encryption_cek":"{{CekB64}}","iv":"{{Convert.ToBase64String(new byte[16])}}"}""", "IV is 16 bytes" },
        { $$"""{"type":"rsa-aes","encryption_cek":"{{Convert.ToBase64String(new byte[32])}}","iv":"{{IvB64}}"}""", "wrapped CEK is 32 bytes" },
        { $$"""{"type":"rsa-aes","encryption_cek":"{{CekB64}}","iv":"{{IvB64}}","encryption_iv":"{{Convert.ToBase64String(new byte[12])}}"}""", "disagree" },
        { $$"""{"type":"rsa-aes","public_key_sid":"PK123","encryption_cek":"{{CekB64}}","iv":"{{IvB64}}"}""", "is not CR followed by" },
        { $$"""{"type":"rsa-aes","encryption_cek":12,"iv":"{{IvB64}}"}""", "must be a string" },
        { """{"status":"completed"}""", "no 'encrypted_cek'" },
        { "[1,2]", "found array" },
        { "{not json", "not valid JSON" },
        { "   ", "empty" },
    };

    [Fact]
    public void A_recording_without_encryption_says_so()
    {
        var e = Assert.Throws<RecordingNotEncryptedException>(() => EncryptionDetails.Parse("""{"sid":"RE0123456789abcdef0123456789abcdef","encryption_details":null}"""));
        Assert.Contains("RE0123456789abcdef0123456789abcdef is not encrypted", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Bad_details_are_refused_saying_what_is_wrong(string text, string says)
    {
        var e = Assert.Throws<EncryptionDetailsException>(() => EncryptionDetails.Parse(text));
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }
}
