using System.Globalization;
using System.Text.RegularExpressions;

namespace Wes.Tests.Observability;

/// <summary>Reads samples from a Prometheus text exposition: the sum of the values of one metric whose labels match.</summary>
public static partial class PrometheusText
{
    /// <summary>The sum over samples of <paramref name="metric"/> carrying every label given; null when there is none.</summary>
    public static double? Sum(string exposition, string metric, params (string Name, string Value)[] labels)
    {
        double? sum = null;
        foreach (Match sample in Sample().Matches(exposition))
        {
            if (sample.Groups["name"].Value != metric)
            {
                continue;
            }

            var found = Label().Matches(sample.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            if (labels.All(label => found.TryGetValue(label.Name, out var value) && value == label.Value))
            {
                sum = (sum ?? 0) + double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex(""""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"""")]
    private static partial Regex Label();
}
