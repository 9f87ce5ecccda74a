using System.Text.Json;
using System.Text.Json.Nodes;

namespace VoiceVault.Cli.Tests;

public sealed class BatchTests : CliTest
{
    [Fact]
    public void A_batch_decrypts_in_parallel_reports_each_outcome_and_fails_if_any_failed()
    {
        Directory.CreateDirectory(P("in"));
        Vv("keygen", "--out", P("k1.pem"), "--public-out", P("k1.pub"), "--bits", "2048").Ok();
        Vv("keygen", "--out", P("k2.pem"), "--public-out", P("k2.pub"), "--bits", "2048").Ok();
        Vv("keyring", "add", "--keyring", P("keys"), P("k1.pem"), "--sid", "CR" + new string('1', 32)).Ok();
        Vv("keyring", "add", "--keyring", P("keys"), P("k2.pem"), "--sid", "CR" + new string('2', 32)).Ok();
        var originals = new Dictionary<string, byte[]>();
        for (int i = 0; i < 12; i++)
        {
            // Rotated keys: half the recordings under each. Twilio's layout: RE….wav + RE….json.
            var name = $"RE{i:x32}";
            var wav = Wav($"{name}.plain", 8000 + i * 1000, seed: i);
            originals[name] = File.ReadAllBytes(wav);
            var pub = i % 2 == 0 ? "k1.pub" : "k2.pub";
            var sid = "CR" + new string(i % 2 == 0 ? '1' : '2', 32);
            Vv("encrypt", wav, "--public-key", P(pub), "--key-sid", sid, "-o", P($"in/{name}.wav"), "--details-out", P($"in/{name}.json")).Ok();
            // Store the details as the API gives them: inside a Recording resource.
            var details = JsonNode.Parse(File.ReadAllText(P($"in/{name}.json")))!;
            File.WriteAllText(P($"in/{name}.json"), new JsonObject { ["sid"] = name, ["encryption_details"] = details }.ToJsonString());
        }
        // One tampered, one not encrypted, one without media.
        var tampered = File.ReadAllBytes(P($"in/RE{3:x32}.wav"));
        tampered[^1] ^= 1;
        File.WriteAllBytes(P($"in/RE{3:x32}.wav"), tampered);
        File.WriteAllText(P("in/RE" + new string('e', 32) + ".json"), """{"sid":"REeeee","encryption_details":null}""");
        File.WriteAllText(P("in/RE" + new string('f', 32) + ".json"), File.ReadAllText(P($"in/RE{0:x32}.json")));

        var run = Vv("decrypt", "--batch", P("in"), "--keyring", P("keys"), "--out", P("out"), "--jobs", "2", "--json");
        Assert.Equal(1, run.ExitCode);
        var summary = JsonDocument.Parse(run.Text).RootElement;
        Assert.Equal(11, summary.GetProperty("ok").GetInt32());
        Assert.Equal(2, summary.GetProperty("failed").GetInt32());
        Assert.Equal(1, summary.GetProperty("skipped").GetInt32());
        Assert.Contains("batch: 11 ok, 2 failed, 1 skipped", run.Stderr, StringComparison.Ordinal);
        foreach (var (name, original) in originals)
        {
            if (name == $"RE{3:x32}")
            {
                Assert.False(File.Exists(P($"out/{name}.wav")));
                continue;
            }
            Assert.Equal(original, File.ReadAllBytes(P($"out/{name}.wav")));
        }
        var results = summary.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("recording").GetString()!);
        Assert.Contains("authentication failed", results[$"RE{3:x32}"].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("no media", results["RE" + new string('f', 32)].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("CR" + new string('2', 32), results[$"RE{1:x32}"].GetProperty("public_key_sid").GetString());
        Assert.Empty(Directory.GetFiles(P("out"), "*.partial", new EnumerationOptions { AttributesToSkip = 0 }));

        // A second run skips what is done and retries nothing that succeeded.
        var again = Vv("decrypt", "--batch", P("in"), "--keyring", P("keys"), "--out", P("out"), "--json");
        var second = JsonDocument.Parse(again.Text).RootElement;
        Assert.Equal(0, second.GetProperty("ok").GetInt32());
        Assert.Equal(12, second.GetProperty("skipped").GetInt32());
    }

    [Fact]
    public void Plain_lines_per_recording_when_not_on_a_terminal()
    {
        Directory.CreateDirectory(P("in"));
        Vv("keygen", "--out", P("k.pem"), "--public-out", P("k.pub"), "--bits", "2048").Ok();
        var wav = Wav("a.plain", 500);
        Vv("encrypt", wav, "--public-key", P("k.pub"), "-o", P("in/a.wav"), "--details-out", P("in/a.json")).Ok();
        var run = Vv("decrypt", "--batch", P("in"), "--key", P("k.pem"), "--out", P("out")).Ok();
        Assert.Contains("ok       a -> ", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("batch: 1 ok, 0 failed, 0 skipped", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("out/a.wav")));
    }

    [Fact]
    public void An_empty_batch_directory_is_an_error()
    {
        Directory.CreateDirectory(P("in"));
        Vv("keygen", "--out", P("k.pem"), "--bits", "2048").Ok();
        Vv("decrypt", "--batch", P("in"), "--key", P("k.pem"), "--out", P("out")).Failed("no recordings in");
    }
}
