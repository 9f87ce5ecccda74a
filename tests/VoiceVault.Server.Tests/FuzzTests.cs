using VoiceVault.Fuzz;

namespace VoiceVault.Server.Tests;

/// <summary>
/// A short pass of every fuzz target (tests/VoiceVault.Fuzz; bench/fuzz.sh runs 10^6 inputs each):
/// every parser that sees outside bytes answers mutated and random input with its documented
/// exception or a value — no other exception, no input over a second, none allocating 64 MiB.
/// CsCheck makes the inputs; why CsCheck: docs/testing.md.
/// </summary>
public sealed class FuzzTests
{
    public static TheoryData<string> Names => [.. Targets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_parser_answers_every_input_as_documented(string name)
    {
        var target = Targets.All.Single(t => t.Name == name);
        // Run aside, so that an input that never returns fails the test instead of stalling the run.
        var report = await Task.Run(() => FuzzRunner.Run(target, 3_000)).WaitAsync(TimeSpan.FromMinutes(3));
        Assert.Equal(3_000, report.Inputs);
        Assert.True(report.Crashes.Count == 0, string.Join("\n", report.Crashes.Select(c => $"{c.Key}\n  input (base64): {Convert.ToBase64String(c.Value)}")));
        Assert.Equal(0, report.Hangs);
        Assert.Equal(0, report.OverAllocated);
    }
}
