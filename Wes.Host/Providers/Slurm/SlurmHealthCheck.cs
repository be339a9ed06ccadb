using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Wes.Providers.Slurm;

/// <summary>
/// Where Slurm is on, its controller answers `scontrol ping`; a controller that does not makes the instance not
/// ready, since runs could neither be submitted nor followed. Registered only where Slurm is on.
/// </summary>
public sealed class SlurmHealthCheck(SlurmCommands commands) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var reply = await commands.RunAsync("scontrol", ["ping"], cancellationToken);
            return reply.Ok && reply.Output.Contains("UP", StringComparison.Ordinal)
                ? HealthCheckResult.Healthy("the Slurm controller answers")
                : HealthCheckResult.Unhealthy($"the Slurm controller does not answer: {FirstLine(reply.Describe())}");
        }
        catch (SlurmUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy($"the Slurm controller does not answer: {ex.Message}");
        }
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
