using System.Text.Json;

namespace VoiceVault.Crypto.Tests;

/// <summary>The details parser at its edges: nesting, forms, non-string fields, base64's exact rules, quoting of bad values, and the hints.</summary>
public sealed class EncryptionDetailsEdgeTests
{
    private const string Sid = "CR0123456789abcdef0123456789abcdef";
    private static readonly string CekB64 = Convert.ToBase64String(TestData.Random(256));
    private static readonly string IvB64 = Convert.ToBase64String(TestData.Random(12));
    private static readonly string Fields = $$"""{"type":"rsa-aes","encryption_public_key_sid":"{{Sid}}","encryption_cek":"{{CekB64}}","iv":"{{IvB64}}"}""";

    private static string Nested(int levels)
    {
        var text = Fields;
        for (int i = 0; i < levels; i++)
        {
            text = $$"""{"encryption_details":{{text}}}""";
        }
        return text;
    }

    [Fact]
    public void Two_containers_deep_is_read_and_three_is_refused()
    {
        Assert.Equal(Sid, EncryptionDetails.Parse(Nested(2)).PublicKeySid);
        var e = Assert.Throws<EncryptionDetailsException>(() => EncryptionDetails.Parse(Nested(3)));
        Assert.Contains("nested too deeply", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_form_body_without_the_field_says_so_and_json_mentioning_a_form_is_still_json()
    {
        var e = Assert.Throws<EncryptionDetailsException>(() => EncryptionDetails.Parse("RecordingSid=RE1&XEncryptionDetails=abc"));
        Assert.Contains("the form body has no EncryptionDetails field", e.Message, StringComparison.Ordinal);
        var resource = $$"""{"uri":"/x?EncryptionDetails=1","encryption_details":{{Fields}}}""";
        Assert.Equal(Sid, EncryptionDetails.Parse(resource).PublicKeySid);
        Assert.Equal(Sid, EncryptionDetails.Parse(JsonSerializer.Serialize(resource)).PublicKeySid);
    }

    [Fact]
    public void A_resource_whose_sid_is_not_a_string_is_still_reported_as_not_encrypted()
    {
        var e = Assert.Throws<RecordingNotEncryptedException>(() => EncryptionDetails.Parse("""{"sid":5,"encryption_details":null}"""));
        Assert.Equal("recording is not encrypted (encryption_details is null)", e.Message);
        e = Assert.Throws<RecordingNotEncryptedException>(() => EncryptionDetails.Parse("""{"EncryptionDetails":null}"""));
        Assert.Equal("recording is not encrypted (EncryptionDetails is null)", e.Message);
    }

    [Fact]
    public void A_type_that_is_not_a_string_is_named_in_the_refusal()
    {
        var e = Assert.Throws<EncryptionDetailsException>(() => EncryptionDetails.Parse($$"""{"type":5,"encryption_cek":"{{CekB64}}","iv":"{{IvB64}}"}"""));
        Assert.Contains("encryption type '5' is not supported; only 'rsa-aes' exists", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadBase64() => new()
    {
        { "ab!dab!d", "iv", "the IV is not standard base64" },                       // a multiple of 4, with a character outside the alphabet
        { "    " + CekB64, "encryption_cek", "the encrypted CEK is not standard base64" }, // whitespace, even where it would decode
        { CekB64[..10] + "\n" + CekB64[10..^1], "encryption_cek", "the encrypted CEK is not standard base64" },
        { CekB64.Replace('+', '-').Replace('/', '_'), "encryption_cek", "the encrypted CEK is not standard base64" }, // base64url
        { CekB64.TrimEnd('='), "encryption_cek", "the encrypted CEK is not standard base64" }, // unpadded (256 bytes need one '=')
    };

    [Theory]
    [MemberData(nameof(BadBase64))]
    public void Only_standard_padded_base64_without_whitespace_is_accepted(string value, string field, string says)
    {
        var fields = new Dictionary<string, string> { ["type"] = "rsa-aes", ["encryption_cek"] = CekB64, ["iv"] = IvB64, [field] = value };
        var e = Assert.Throws<EncryptionDetailsException>(() => EncryptionDetails.Parse(JsonSerializer.Serialize(fields)));
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_bad_values_are_quoted_cut_at_40_characters()
    {
        var long41 = "CR" + new string('X', 39);
        var e = Assert.Throws<EncryptionDetailsException>(() => new EncryptionDetails(long41, TestData.Random(256), TestData.Random(12)));
        Assert.Contains($"'{long41[..40]}…'", e.Message, StringComparison.Ordinal);
        var long40 = "CR" + new string('X', 38);
        e = Assert.Throws<EncryptionDetailsException>(() => new EncryptionDetails(long40, TestData.Random(256), TestData.Random(12)));
        Assert.Contains($"'{long40}' is not CR", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refusals_come_with_a_hint_that_says_what_to_do()
    {
        Assert.Contains("the iv field was damaged", Assert.Throws<EncryptionDetailsException>(() => new EncryptionDetails(Sid, TestData.Random(256), new byte[16])).Hint, StringComparison.Ordinal);
        Assert.Contains("damaged or truncated", Assert.Throws<EncryptionDetailsException>(() => new EncryptionDetails(Sid, new byte[100], new byte[12])).Hint, StringComparison.Ordinal);
        Assert.Contains("give the Recording resource JSON", Assert.Throws<EncryptionDetailsException>(() => EncryptionDetails.Parse("{oops")).Hint, StringComparison.Ordinal);
        Assert.Contains("give the Recording resource JSON", Assert.Throws<EncryptionDetailsException>(() => EncryptionDetails.Parse("""{"type":"rsa-aes"}""")).Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_arguments_are_refused_by_name()
    {
        Assert.Equal("encryptedCek", Assert.Throws<ArgumentNullException>(() => new EncryptionDetails(Sid, null!, new byte[12])).ParamName);
        Assert.Equal("iv", Assert.Throws<ArgumentNullException>(() => new EncryptionDetails(Sid, new byte[256], null!)).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => EncryptionDetails.Parse(null!)).ParamName);
        Assert.Equal("writer", Assert.Throws<ArgumentNullException>(() => new EncryptionDetails(Sid, new byte[256], new byte[12]).WriteRest(null!)).ParamName);
    }
}
