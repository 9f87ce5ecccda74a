using System.Globalization;

/// <summary>What the load generators read from the server under test: its CPU time and its /metrics.</summary>
static class ServerMetrics
{
    /// <summary>utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat, in 1/100 s).</summary>
    public static double CpuSeconds(int? pid)
    {
        if (pid is null)
        {
            return 0;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>The CPU seconds of several processes together (the instances of a cluster).</summary>
    public static double CpuSeconds(IEnumerable<int> pids) => pids.Sum(p => CpuSeconds(p));

    public static double RssMiB(int? pid)
    {
        if (pid is null)
        {
            return 0;
        }
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    public static async Task<Dictionary<string, double>> ScrapeAsync(string url)
    {
        using var plain = new HttpClient();
        return PrometheusText.Parse(await plain.GetStringAsync($"{url}/metrics"));
    }

    /// <summary>
    /// The q-quantile (seconds) of what histogram <paramref name="name"/> observed between two
    /// scrapes, linear inside the bucket that holds it (as Prometheus' histogram_quantile); also the count.
    /// </summary>
    public static (double? Quantile, double Count) Quantile(Dictionary<string, double> before, Dictionary<string, double> after, string name, double q)
    {
        var buckets = after.Keys.Where(k => k.StartsWith(name + "_bucket{le=\"", StringComparison.Ordinal))
            .Select(k => (Key: k, Le: k[(k.IndexOf('"') + 1)..k.LastIndexOf('"')])).Where(b => b.Le != "+Inf")
            .Select(b => (Le: double.Parse(b.Le, CultureInfo.InvariantCulture), Count: after[b.Key] - before.GetValueOrDefault(b.Key)))
            .OrderBy(b => b.Le).ToArray();
        double n = after.GetValueOrDefault(name + "_count") - before.GetValueOrDefault(name + "_count");
        double rank = q * n, lower = 0, below = 0;
        foreach (var (le, count) in buckets)
        {
            if (count >= rank && n > 0)
            {
                return (count == below ? le : lower + (le - lower) * (rank - below) / (count - below), n);
            }
            (lower, below) = (le, count);
        }
        return (null, n);
    }
}

/// <summary>The load generators' command line: <c>--name value</c> pairs, or <c>--flag</c> alone for "true".</summary>
static class BenchArgs
{
    public static Dictionary<string, string> Parse(string[] args)
    {
        var opts = new Dictionary<string, string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                opts[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
            }
        }
        return opts;
    }
}
