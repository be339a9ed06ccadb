using System.Globalization;
using System.Runtime.InteropServices;

namespace Wes.Bench;

/// <summary>The machine a result came from, so numbers from different hosts are never compared blind.</summary>
internal static class MachineInfo
{
    public static async Task<IReadOnlyList<IReadOnlyList<string>>> ReadAsync(CancellationToken cancellationToken)
    {
        var nproc = await ChildProcess.TryReadAsync("nproc", [], cancellationToken);
        var cwltool = await ChildProcess.TryReadAsync("cwltool", ["--version"], cancellationToken);
        return
        [
            ["CPUs (nproc)", $"{nproc ?? "?"} (.NET sees {Environment.ProcessorCount})"],
            ["CPU model", FirstValue("/proc/cpuinfo", "model name", ':') ?? "unknown"],
            ["Memory", Memory() ?? "unknown"],
            ["OS", FirstValue("/etc/os-release", "PRETTY_NAME", '=')?.Trim('"') ?? RuntimeInformation.OSDescription],
            [".NET", $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture})"],
            // "/usr/bin/cwltool 3.1.20230209161050": the version is the last word.
            ["cwltool", cwltool?.Split(' ')[^1] ?? "not on PATH"],
        ];
    }

    private static string? Memory()
    {
        var text = FirstValue("/proc/meminfo", "MemTotal", ':');
        return text is not null && long.TryParse(text.Split(' ')[0], CultureInfo.InvariantCulture, out var kib)
            ? (kib / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " GiB"
            : null;
    }

    /// <summary>The value of the first "key: value" (or "key=value") line, or null when the file or key is absent.</summary>
    private static string? FirstValue(string path, string key, char separator)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        return File.ReadLines(path)
            .Select(line => line.Split(separator, 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim() == key)
            .Select(parts => parts[1].Trim())
            .FirstOrDefault();
    }
}
