using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Providers.Slurm;

/// <summary>What one Slurm command answered.</summary>
public sealed record SlurmReply(int ExitCode, string Output, string Error)
{
    public bool Ok => ExitCode == 0;

    /// <summary>The controller answered, and the answer is that it knows no such job.</summary>
    public bool UnknownJob => Error.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase);

    public string Describe() => (Error.Trim() is { Length: > 0 } error ? error : Output.Trim()) is { Length: > 0 } text
        ? text.Length > 300 ? text[..300] : text
        : $"exit code {ExitCode}";
}

/// <summary>A Slurm command that did not answer in time or could not be started.</summary>
public sealed class SlurmUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Runs the Slurm client commands (sbatch, squeue, scontrol, scancel, sacct) with an argument list, never through a
/// shell, each within a time limit. The server's own settings and secrets are left out of their environment, since
/// sbatch hands its environment on to the job.
/// </summary>
public sealed class SlurmCommands(IOptions<WesOptions> options)
{
    // Every poll round runs these programs: each is looked for once found, and again only while it is missing.
    private readonly ConcurrentDictionary<string, string> _found = new(StringComparer.Ordinal);

    private SlurmOptions Settings => options.Value.Slurm;

    /// <summary>The program's path: in Wes:Slurm:BinDir when set, else found on PATH; null when it is missing.</summary>
    public string? Find(string program)
    {
        if (_found.TryGetValue(program, out var known))
        {
            return known;
        }

        var path = string.IsNullOrWhiteSpace(Settings.BinDir)
            ? Execution.Engines.EngineCatalog.FindOnPath(program)
            : File.Exists(Path.Combine(Settings.BinDir, program)) ? Path.Combine(Settings.BinDir, program) : null;
        return path is null ? null : _found.GetOrAdd(program, path);
    }

    /// <exception cref="SlurmUnavailableException">The program is missing, could not start, or took too long.</exception>
    public async Task<SlurmReply> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var path = Find(program) ?? throw new SlurmUnavailableException(
            $"{program} not found ({(string.IsNullOrWhiteSpace(Settings.BinDir) ? "on PATH" : "in " + Settings.BinDir)}); install the Slurm client (slurm-client) or set WES_SLURM_BIN");
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in Execution.Sandbox.SandboxEnvironment.Withheld(options.Value.Sandbox.PassEnvironmentList))
        {
            environment[name] = null;
        }

        if (!string.IsNullOrWhiteSpace(Settings.ConfigPath))
        {
            environment["SLURM_CONF"] = Settings.ConfigPath;
        }

        try
        {
            var run = await Execution.ProgramRun.RunAsync(path, arguments, TimeSpan.FromSeconds(Settings.CommandTimeoutSeconds), environment, cancellationToken);
            return new SlurmReply(run.ExitCode, run.Output, run.Error);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            // Removed since it was found: looked for again next time.
            _found.TryRemove(program, out _);
            throw new SlurmUnavailableException($"{program} could not be started: {ex.Message}", ex);
        }
        catch (TimeoutException)
        {
            throw new SlurmUnavailableException($"{program} did not answer within {Settings.CommandTimeoutSeconds:0.#} s");
        }
    }
}
