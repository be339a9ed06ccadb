using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Execution.Sandbox;

public static class SandboxExtensions
{
    /// <summary>The engine sandbox, probed and reported once when the host starts.</summary>
    public static IServiceCollection AddEngineSandbox(this IServiceCollection services)
    {
        services.AddSingleton<EngineSandbox>();
        services.AddHostedService<SandboxStartupReport>();
        return services;
    }
}

/// <summary>Says at start-up, in one line, whether engines will run sandboxed, and if not, why and what to do.</summary>
public sealed class SandboxStartupReport(
    EngineSandbox sandbox, IOptions<WesOptions> options, ILogger<SandboxStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MaxConcurrentRuns == 0)
        {
            // A process that only serves the API starts no engine; service-info still probes when asked.
            return Task.CompletedTask;
        }

        // Probing starts bubblewrap; the result is only logged here, so start-up does not wait for it. The first
        // engine launch or service-info request that needs it waits for the same probe instead of starting another.
        _ = Task.Run(Report, CancellationToken.None);
        return Task.CompletedTask;
    }

    private void Report()
    {
        var status = sandbox.Status;
        switch (status.State)
        {
            case SandboxState.Enabled:
                logger.LogInformation("Engines run in a sandbox: {Sandbox}", status.Description);
                break;
            case SandboxState.DisabledByOperator:
                logger.LogWarning("The engine sandbox is off (WES_SANDBOX=off): engines run as the server's user and see everything it sees");
                break;
            default:
                logger.LogError("No engine will start: {Problem}", EngineSandbox.UnavailableMessage(status));
                break;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
