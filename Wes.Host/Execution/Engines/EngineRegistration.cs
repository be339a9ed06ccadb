namespace Wes.Execution.Engines;

public static class EngineRegistration
{
    /// <summary>
    /// Every engine the server knows, in the order service-info lists them. Each is offered only where its program is
    /// installed; the first registered engine of a type that is its default runs requests naming no engine.
    /// </summary>
    public static IServiceCollection AddWorkflowEngines(this IServiceCollection services)
    {
        services.AddSingleton<IWorkflowEngine, Cwltool.CwltoolEngine>();
        services.AddSingleton<IWorkflowEngine, Toil.ToilEngine>();
        services.AddSingleton<IWorkflowEngine, Snakemake.SnakemakeEngine>();
        services.AddSingleton<IWorkflowEngine, Nextflow.NextflowEngine>();
        return services;
    }
}
