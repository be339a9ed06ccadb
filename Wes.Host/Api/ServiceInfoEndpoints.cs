using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution.Engines;
using Wes.Execution.Sandbox;
using Wes.Persistence;
using Wes.Providers;
using Wes.Runs;

namespace Wes.Api;

public static class ServiceInfoEndpoints
{
    public const string WesVersion = "1.1.0";

    private static readonly string ServerVersion =
        typeof(ServiceInfoEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <param name="names">Prefix that keeps endpoint names unique when the group is mapped under a second base path.</param>
    public static RouteGroupBuilder MapServiceInfoEndpoints(this RouteGroupBuilder group, string names)
    {
        group.MapGet("/service-info", GetServiceInfoAsync).WithName(names + "GetServiceInfo").WithTags("Service Info");
        return group;
    }

    /// <summary>Engine versions are the ones read from the engines on this machine; state counts come from the database.</summary>
    private static async Task<Ok<ServiceInfo>> GetServiceInfoAsync(
        HttpRequest request, RunStore store, EngineCatalog catalog, IEnumerable<IExecutionProvider> providers, RunViews views,
        TimeProvider clock, IOptions<WesOptions> options, EngineSandbox sandbox, CancellationToken ct)
    {
        var settings = options.Value;
        var provider = ExecutionProviders.Default(providers, settings);
        // What every provider a run can be sent to runs: the default and those runs may pick by tag.
        var offered = ExecutionProviders.Offered(providers, settings);
        var byProvider = new List<(IExecutionProvider Provider, IReadOnlyList<Execution.Engines.AvailableEngine> Engines)>();
        foreach (var p in offered)
        {
            byProvider.Add((p, await p.GetEnginesAsync(ct)));
        }

        var local = byProvider.First(p => p.Provider == provider).Engines;
        var available = byProvider.SelectMany(p => p.Engines).ToList();
        var counts = await store.CountByStateAsync(ct);
        // An executor that has not beaten for a whole lease is taken as gone.
        var executors = await store.ListExecutorsAsync(
            clock.GetUtcNow().AddSeconds(-settings.LeaseSeconds).ToUnixTimeMilliseconds(), ct);
        var info = settings.ServiceInfo;
        var origin = views.Origin(request);
        return TypedResults.Ok(new ServiceInfo
        {
            Id = info.Id,
            Name = info.Name,
            Type = new ServiceType("org.ga4gh", "wes", WesVersion),
            Description = info.Description,
            Organization = new Organization(info.OrganizationName, info.OrganizationUrl),
            ContactUrl = info.ContactUrl,
            DocumentationUrl = info.DocumentationUrl ?? origin + "/scalar",
            Environment = info.Environment,
            Version = ServerVersion,
            WorkflowTypeVersions = available.GroupBy(a => a.Engine.WorkflowType).ToDictionary(
                g => g.Key, g => new WorkflowTypeVersion(g.SelectMany(a => a.Engine.WorkflowTypeVersions).Distinct().ToList())),
            SupportedWesVersions = [WesVersion],
            SupportedFilesystemProtocols = ["file", "http", "https"],
            WorkflowEngineVersions = available.GroupBy(a => a.Engine.Name, StringComparer.OrdinalIgnoreCase).ToDictionary(
                g => g.Key, g => new WorkflowEngineVersion(g.Select(a => a.Version).Distinct().ToList())),
            // The spec's list has no engine field, so each name says its engine: "snakemake:cores".
            DefaultWorkflowEngineParameters = available.SelectMany(a => a.Engine.Parameters.Select(p =>
                new DefaultWorkflowEngineParameter(EngineParameterNames.Qualified(a.Engine, p), p.Type, p.DefaultValue)))
                .DistinctBy(p => p.Name).ToList(),
            SystemStateCounts = counts.ToDictionary(pair => pair.Key.ToWes(), pair => pair.Value),
            AuthInstructionsUrl = info.AuthInstructionsUrl ?? origin + "/scalar",
            Tags = new Dictionary<string, string>
            {
                ["provider"] = provider.Name,
                // The batch systems a run's work can be spread over.
                ["batch_systems"] = Providers.Slurm.SlurmOptions.IsOn(settings)
                    ? "slurm: provider Slurm (each run one batch job); toil:batchSystem=slurm and snakemake:executor=slurm spread a run's steps as Slurm jobs"
                    : "none (runs execute on the executor's host)",
                ["executor_workers"] = settings.MaxConcurrentRuns.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["executors_alive"] = executors.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["executor_workers_total"] = executors.Sum(e => e.Workers).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["runs_executing"] = executors.Sum(e => e.Running).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["registered_engines"] = string.Join(",", catalog.Registered.Select(e => e.Name)),
                ["missing_engines"] = string.Join(",", catalog.Registered.Where(e => local.All(a => a.Engine != e)).Select(e => e.Name)),
                // Every provider a run may pick with the wes.provider tag.
                ["providers"] = string.Join(",", byProvider.Select(p => p.Provider.Name)),
                ["provider_tag"] = $"tag {ExecutionProviders.Tag} picks the provider a run goes to; provider:<name> says what each runs",
                ["run_stdout_stderr"] = "RunLog.run_log.stdout and .stderr link to GET /runs/{run_id}/stdout|stderr",
                ["task_stdout_stderr"] = "TaskLog.stdout and .stderr link to GET /runs/{run_id}/tasks/{task_id}/stdout|stderr where the engine keeps them",
                ["run_outputs"] = "GET /runs/{run_id}/outputs lists the output files; GET /runs/{run_id}/outputs/{path} downloads one",
                ["default_workflow_engine_parameters"] = "names are engine:parameter; requests may also use the bare name for the chosen engine",
                ["unpack_tag"] = $"tag {AttachmentUnpacker.Tag} names zip attachments to unpack, separated by commas",
                // How engines on this host are confined: "bubblewrap 0.8.0 (...)", "off (WES_SANDBOX=off)" or "unavailable: ...".
                ["sandbox"] = sandbox.Status.Tag,
            }.Concat(byProvider.Select(p => KeyValuePair.Create("provider:" + p.Provider.Name, ProviderSummary(p.Engines)))).ToDictionary(),
        });
    }

    /// <summary>"CWL v1.0|v1.2 (cwltool 3.1), WDL 1.0 (cromwell 87)": what one provider runs.</summary>
    private static string ProviderSummary(IReadOnlyList<Execution.Engines.AvailableEngine> engines) =>
        string.Join(", ", engines.GroupBy(a => a.Engine.WorkflowType).Select(g =>
            $"{g.Key} {string.Join("|", g.SelectMany(a => a.Engine.WorkflowTypeVersions).Distinct())} " +
            $"({string.Join(", ", g.Select(a => $"{a.Engine.Name} {a.Version}"))})").DefaultIfEmpty("none"));
}
