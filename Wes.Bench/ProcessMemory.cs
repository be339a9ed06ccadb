using System.Globalization;

namespace Wes.Bench;

/// <summary>A child's resident memory as the kernel counts it (VmRSS in /proc/&lt;pid&gt;/status).</summary>
internal static class ProcessMemory
{
    /// <summary>Resident set size in MB, or null where /proc is missing or the process has gone.</summary>
    public static double? ReadRssMegabytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    // "VmRSS:     81234 kB"
                    var kilobytes = long.Parse(line["VmRSS:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
                    return kilobytes / 1024.0;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }

    public static string Format(double? megabytes) =>
        megabytes is { } mb ? mb.ToString("F1", CultureInfo.InvariantCulture) + " MB" : "–";
}
