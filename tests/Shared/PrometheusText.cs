using System.Globalization;
using System.Text.RegularExpressions;

/// <summary>
/// Reads the Prometheus text format as /metrics serves it: series (name and labels, as written)
/// to values. The exporter's own <c>otel_scope_*</c> labels are dropped, so a series is named as
/// the docs name it: <c>voicevault_uploads_total{status="completed"}</c>.
/// </summary>
static partial class PrometheusText
{
    public static Dictionary<string, double> Parse(string text)
    {
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            // name{labels} value [timestamp]
            int close = line.LastIndexOf('}');
            int space = line.IndexOf(' ', close < 0 ? 0 : close);
            var name = ScopeLabels().Replace(line[..space], "").Replace(",}", "}", StringComparison.Ordinal).Replace("{}", "", StringComparison.Ordinal);
            var value = line[(space + 1)..].Split(' ')[0];
            series[name] = value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(value, CultureInfo.InvariantCulture),
            };
        }
        return series;
    }

    [GeneratedRegex("otel_scope_[a-z_]+=\"[^\"]*\",?")]
    private static partial Regex ScopeLabels();
}
