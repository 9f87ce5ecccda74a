// bench/fuzz.sh: every fuzz target, COUNT inputs each (default 10^6); a Markdown report of
// crashes (unexpected exceptions, with the shortest input for each), hangs (over 1 s), inputs
// allocating over 64 MiB, and the slowest input. Exit code 1 if anything was found.
// usage: VoiceVault.Fuzz [COUNT] [TARGET...]
using System.Globalization;
using VoiceVault.Fuzz;

long count = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var wanted = args.Skip(1).ToHashSet(StringComparer.Ordinal);
var targets = Targets.All.Where(t => wanted.Count == 0 || wanted.Contains(t.Name)).ToList();
Console.WriteLine($"| parser | inputs | unhandled exceptions | hangs (> 1 s) | inputs over 64 MiB | slowest input | most allocated by one input | inputs/s |");
Console.WriteLine("|---|---:|---:|---:|---:|---|---:|---:|");
bool found = false;
var details = new List<string>();
foreach (var target in targets)
{
    var report = FuzzRunner.Run(target, count, threads: Environment.ProcessorCount);
    found |= report.Crashes.Count > 0 || report.Hangs > 0 || report.OverAllocated > 0;
    Console.WriteLine($"| {report.Name} | {report.Inputs:N0} | {report.Crashes.Count} | {report.Hangs} | {report.OverAllocated} | {report.SlowestMs:F1} ms ({report.SlowestInput.Length} bytes) | {report.MostAllocated / 1024.0:F0} KiB | {report.Inputs / report.Seconds:N0} |");
    foreach (var (crash, input) in report.Crashes)
    {
        details.Add($"* {report.Name}: {crash}\n  shortest input ({input.Length} bytes, base64): `{Convert.ToBase64String(input)}`");
    }
}
if (details.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine("Findings:");
    details.ForEach(Console.WriteLine);
}
return found ? 1 : 0;
