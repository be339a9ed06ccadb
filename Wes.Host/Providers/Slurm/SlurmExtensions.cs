namespace Wes.Providers.Slurm;

public static class SlurmExtensions
{
    /// <summary>The Slurm provider, its commands, its one job poller and where the client's files are; offered to runs only when Slurm is on (see <see cref="SlurmOptions.IsOn"/>).</summary>
    public static IServiceCollection AddSlurmProvider(this IServiceCollection services)
    {
        services.AddSingleton<SlurmClientFiles>();
        services.AddSingleton<SlurmCommands>();
        services.AddSingleton<SlurmJobPoller>();
        services.AddSingleton<SlurmProvider>();
        services.AddSingleton<IExecutionProvider>(provider => provider.GetRequiredService<SlurmProvider>());
        return services;
    }
}
