using System.Globalization;

namespace Wes.Tests.Support;

/// <summary>One Mock execution as its executor recorded it: who ran which attempt of which run, and when.</summary>
public sealed record Execution(string RunId, int Attempt, string Owner, long Start, long? End, string? Outcome);

/// <summary>Reads the file the Mock provider appends to (Wes:Mock:ExecutionLog) from every executor process.</summary>
public static class ExecutionLog
{
    public static IReadOnlyList<Execution> Read(string path)
    {
        var executions = new List<Execution>();
        var open = new Dictionary<(string, int, string), long>();
        var lines = Directory.GetFiles(Path.GetDirectoryName(path)!, Path.GetFileName(path) + ".*").SelectMany(File.ReadAllLines);
        foreach (var line in lines)
        {
            var f = line.Split(' ');
            var key = (f[1], int.Parse(f[2], CultureInfo.InvariantCulture), f[3]);
            var at = long.Parse(f[4], CultureInfo.InvariantCulture);
            if (f[0] == "start")
            {
                open[key] = at;
            }
            else if (open.Remove(key, out var start))
            {
                executions.Add(new Execution(key.Item1, key.Item2, key.Item3, start, at, f[5]));
            }
        }

        // Executions that never ended: their executor was killed.
        executions.AddRange(open.Select(o => new Execution(o.Key.Item1, o.Key.Item2, o.Key.Item3, o.Value, null, null)));
        return executions;
    }
}
