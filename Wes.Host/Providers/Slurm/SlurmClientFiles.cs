using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Providers.Slurm;

/// <summary>
/// What a process needs to talk to the Slurm controller: munge's socket (its credentials are what the controller
/// trusts) and slurm.conf. A workflow that can reach both can submit jobs of its own outside the sandbox, so an engine
/// sees them only when its run hands its steps to Slurm. Where they are is read once: slurm.conf names the socket.
/// </summary>
public sealed partial class SlurmClientFiles(IOptions<WesOptions> options)
{
    private const string DefaultConfig = "/etc/slurm/slurm.conf";
    private const string DefaultMungeSocket = "/run/munge/munge.socket.2";

    [GeneratedRegex(@"^\s*AuthInfo\s*=.*?\bsocket=([^,\s]+)", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex MungeSocket();

    /// <summary>Whether the run's engine parameters hand its steps to Slurm (toil:batchSystem=slurm, snakemake:executor=slurm).</summary>
    public static bool Wanted(IReadOnlyDictionary<string, string> engineParameters) =>
        string.Equals(engineParameters.GetValueOrDefault("batchSystem"), "slurm", StringComparison.OrdinalIgnoreCase) ||
        string.Equals(engineParameters.GetValueOrDefault("executor"), "slurm", StringComparison.OrdinalIgnoreCase);

    private readonly Lazy<IReadOnlyList<string>> _paths = new(() => Locate(options.Value));

    /// <summary>The paths to hide from the run's engine: none when it hands its steps to Slurm.</summary>
    public IReadOnlyList<string> HiddenFrom(IReadOnlyDictionary<string, string> engineParameters) =>
        Wanted(engineParameters) ? [] : _paths.Value;

    private static IReadOnlyList<string> Locate(WesOptions options)
    {
        var config = new[] { options.Slurm.ConfigPath, Environment.GetEnvironmentVariable("SLURM_CONF") }
            .FirstOrDefault(p => !string.IsNullOrWhiteSpace(p)) ?? DefaultConfig;
        var socket = DefaultMungeSocket;
        try
        {
            if (File.Exists(config) && MungeSocket().Match(File.ReadAllText(config)) is { Success: true } match)
            {
                socket = match.Groups[1].Value;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An unreadable slurm.conf names no other socket: the default one is hidden.
        }

        return [config, DefaultConfig, DefaultMungeSocket, socket];
    }
}
