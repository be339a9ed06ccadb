namespace Wes.Providers.Slurm;

public static class SlurmExtensions
{
    /// <summary>The Slurm provider, its commands and its one job poller; offered to runs only when Slurm is on (see <see cref="SlurmOptions.IsOn"/>).</summary>
    public static IServiceCollection AddSlurmProvider(this IServiceCollection services)
    {
        services.AddSingleton<SlurmCommands>();
        services.AddSingleton<SlurmJobPoller>();
        services.AddSingleton<SlurmProvider>();
        services.AddSingleton<IExecutionProvider>(provider => provider.GetRequiredService<SlurmProvider>());
        return services;
    }
}
