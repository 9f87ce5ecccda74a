using VoiceVault.Server.Core;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The chain's arithmetic against docs/audit.md's test vectors: the canonical text and the hash of
/// each vector event, as the document prints them (the document and the code cannot drift apart),
/// and the canonical form's rules one by one.
/// </summary>
public sealed class AuditChainTests
{
    private static readonly AuditEvent First = new()
    {
        Sid = "AE0123456789abcdef0123456789abcdef",
        AccountSid = "AC0123456789abcdef0123456789abcdef",
        Sequence = 1,
        DateCreated = "2026-12-07T09:30:00.123Z",
        Action = "recording.media.read",
        ActorType = "api_key",
        ActorSid = "SK0123456789abcdef0123456789abcdef",
        ResourceSid = "RE0123456789abcdef0123456789abcdef",
        SourceIp = "203.0.113.7",
        RequestId = "0HN8:00000001",
        Outcome = "success",
        Details = Jcs.Value(new Dictionary<string, object?> { ["delivery"] = "bytes", ["offset"] = 0, ["count"] = 96016, ["size"] = 96016, ["note"] = "café \"q\"\n" }),
        PreviousHash = AuditChain.Genesis,
        Hash = "",
    };

    [Fact]
    public void The_test_vectors_of_docs_audit_md_are_what_the_code_computes()
    {
        var doc = File.ReadAllText(Path.Combine(TestProcess.RepositoryRoot, "docs", "audit.md"));
        var firstHash = AuditChain.HashOf(First);
        var second = First with
        {
            Sid = "AE1123456789abcdef0123456789abcdef",
            Sequence = 2,
            DateCreated = "2026-12-07T09:31:00.000Z",
            Action = "recording.read",
            ActorType = "account",
            ActorSid = "AC0123456789abcdef0123456789abcdef",
            SourceIp = null,
            RequestId = null,
            Details = Jcs.Value(new Dictionary<string, object?>()),
            PreviousHash = firstHash,
        };
        foreach (var e in new[] { First, second })
        {
            Assert.Contains("\n    " + AuditChain.Canonical(e) + "\n", doc, StringComparison.Ordinal);
            Assert.Contains("\n    hash " + AuditChain.HashOf(e) + "\n", doc, StringComparison.Ordinal);
        }
        Assert.Equal("7ea45ebba385547c595aab7d744e2ecc0f1823412c2e0691de2d9e778f79b926", firstHash);
    }

    [Fact]
    public void Linking_numbers_the_chain_and_hashes_over_the_previous_hash()
    {
        var actor = new Actor(ActorType.ApiKey, "SK0123456789abcdef0123456789abcdef", "203.0.113.7", "r1");
        var now = DateTimeOffset.Parse("2026-12-07T09:30:00.1234567Z", System.Globalization.CultureInfo.InvariantCulture);
        var one = AuditChain.Link(new NewAuditEvent("AC0123456789abcdef0123456789abcdef", AuditActions.RecordingRead, actor, null, AuditOutcome.Success), "AE0123456789abcdef0123456789abcdef", 1, AuditChain.Genesis, now);
        Assert.Equal("2026-12-07T09:30:00.123Z", one.DateCreated);
        Assert.Equal("api_key", one.ActorType);
        Assert.Equal("{}", one.Details);
        Assert.Equal(AuditChain.HashOf(one), one.Hash);
        // The same event after another previous hash is another hash: the link is in the hash.
        Assert.NotEqual(one.Hash, AuditChain.HashOf(one with { PreviousHash = one.Hash }));
        // Any field changed changes it.
        Assert.NotEqual(one.Hash, AuditChain.HashOf(one with { SourceIp = "203.0.113.8" }));
        Assert.NotEqual(one.Hash, AuditChain.HashOf(one with { Sequence = 2 }));
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("quote \" and backslash \\", "\"quote \\\" and backslash \\\\\"")]
    [InlineData("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"")]
    [InlineData("\u0001\u001f", "\"\\u0001\\u001f\"")]
    [InlineData("é € 😀 </script>", "\"é € 😀 </script>\"")]
    public void Strings_are_escaped_as_JSON_stringify_escapes_them(string value, string canonical) => Assert.Equal(canonical, Jcs.String(value));

    [Fact]
    public void Members_are_ordered_by_UTF16_code_units_and_only_exact_integers_pass()
    {
        // é (U+00E9) sorts after z; U+1F600, the surrogate pair D83D DE00, before U+FFFF: UTF-16 code units, not code points.
        Assert.Equal("{\"a\":1,\"b\":[true,false,null],\"z\":\"\",\"é\":{}}",
            Jcs.Value(new Dictionary<string, object?> { ["é"] = new Dictionary<string, object?>(), ["z"] = "", ["b"] = new object?[] { true, false, null }, ["a"] = 1 }));
        Assert.Equal("{\"\ud83d\ude00\":1,\"\uffff\":2}", Jcs.Value(new Dictionary<string, object?> { ["\uffff"] = 2, ["\ud83d\ude00"] = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Jcs.Value(1L << 53));
        Assert.Throws<ArgumentException>(() => Jcs.Value(1.5));
        Assert.Throws<ArgumentException>(() => Jcs.String("\ud800 alone"));
    }
}
