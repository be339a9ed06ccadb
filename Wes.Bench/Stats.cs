using System.Globalization;
using System.Text.RegularExpressions;

namespace Wes.Bench;

/// <summary>Order statistics of a set of measurements in milliseconds.</summary>
internal sealed record Summary(int Count, double Median, double P90, double Min, double Max)
{
    public double P99 { get; init; } = double.NaN;

    public static Summary Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0
            ? new Summary(0, double.NaN, double.NaN, double.NaN, double.NaN)
            : new Summary(sorted.Length, Percentile(sorted, 0.5), Percentile(sorted, 0.9), sorted[0], sorted[^1]) { P99 = Percentile(sorted, 0.99) };
    }

    /// <summary>Linear interpolation between the closest ranks, so the 0.5 point is the usual median.</summary>
    private static double Percentile(double[] sorted, double fraction)
    {
        var rank = fraction * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }
}

/// <summary>Markdown output for stdout, so the report pastes into a note as it is.</summary>
internal static partial class Markdown
{
    public static void Table(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        output.WriteLine("| " + string.Join(" | ", headers.Select(Cell)) + " |");
        output.WriteLine("|" + string.Join("|", headers.Select(_ => "---")) + "|");
        foreach (var row in rows)
        {
            output.WriteLine("| " + string.Join(" | ", row.Select(Cell)) + " |");
        }

        output.WriteLine();
    }

    public static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString("F1", CultureInfo.InvariantCulture);

    public static string Rate(double value) => value.ToString("F1", CultureInfo.InvariantCulture);

    public static string Code(string text) => "`" + text.Replace("`", "'", StringComparison.Ordinal) + "`";

    /// <summary>Text that may hold a connection string, with any password replaced by ***, so a report can be shared.</summary>
    public static string RedactPasswords(string text) => PasswordSetting().Replace(text, "$1=***");

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    [GeneratedRegex(@"\b(password|pwd)\s*=[^;'""\s]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordSetting();
}
