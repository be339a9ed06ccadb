using System.Text.RegularExpressions;

namespace Wes.Execution.Engines;

/// <summary>Turns declared engine parameters into argument-list entries (never shell text), and asks an engine its version.</summary>
public static partial class EngineArguments
{
    /// <summary>Adds <paramref name="flag"/> when the boolean parameter is true.</summary>
    public static void AddFlag(List<string> arguments, IReadOnlyDictionary<string, string> parameters, string name, string flag)
    {
        if (parameters.TryGetValue(name, out var value) && value == "true")
        {
            arguments.Add(flag);
        }
    }

    /// <summary>Adds "<paramref name="option"/> value" when the parameter was given.</summary>
    public static void AddValue(List<string> arguments, IReadOnlyDictionary<string, string> parameters, string name, string option)
    {
        if (parameters.TryGetValue(name, out var value))
        {
            arguments.AddRange([option, value]);
        }
    }

    /// <summary>Runs the engine with <paramref name="argument"/> and picks its version out of stdout, or null.</summary>
    public static async Task<string?> ReadVersionAsync(
        string executablePath, string argument, Func<string, string?> parse, CancellationToken cancellationToken)
    {
        // The catalog's token bounds the wait; the program is killed when it fires.
        var run = await ProgramRun.RunAsync(executablePath, [argument], System.Threading.Timeout.InfiniteTimeSpan, null, cancellationToken);
        return run.ExitCode == 0 ? parse(run.Output) : null;
    }

    /// <summary>"/usr/bin/cwltool 3.1.20230209161050" or "7.21.0": the version is the last word.</summary>
    public static string? LastWord(string output)
    {
        var words = output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return words.Length > 0 ? words[^1] : null;
    }

    /// <summary>Space-separated targets for the engine's positional arguments: no option, no absolute or parent path.</summary>
    /// <remarks>\z, not $, which also matches before a final newline; [\s\S], not '.', so a ".." after a newline is seen too.</remarks>
    [GeneratedRegex(@"^(?![\s\S]*(^|[\s/])\.\.(/|\s|\z))[A-Za-z0-9_{}][A-Za-z0-9_.,/=+{}-]*(\s+[A-Za-z0-9_{}][A-Za-z0-9_.,/=+{}-]*)*\z")]
    public static partial Regex Targets();

    /// <summary>A name such as a profile or a size ("8G", "local,docker"): letters, digits and . , _ - only, not first a dash.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9_.][A-Za-z0-9_.,-]*\z")]
    public static partial Regex Word();
}
