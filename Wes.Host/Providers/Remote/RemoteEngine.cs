using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>
/// An engine a remote WES server offers for one workflow type. It only describes: the remote runs it. When this server
/// knows an engine of that name and type, its parameters are checked here as well; otherwise the remote judges them.
/// </summary>
public sealed class RemoteEngine(
    string remote, string name, string workflowType, IReadOnlyList<string> typeVersions, bool isDefault, IWorkflowEngine? typeDefinition,
    IWorkflowEngine? sameEngine)
    : IWorkflowEngine
{
    public string Name => name;
    public string WorkflowType => workflowType;
    public IReadOnlyList<string> WorkflowTypeAliases => typeDefinition?.WorkflowTypeAliases ?? [];
    public bool IsDefaultForType => isDefault;
    public IReadOnlyList<string> WorkflowTypeVersions => typeVersions;
    public string Executable => $"{remote}:{name}";
    public string InstallHint => $"the remote WES server '{remote}' runs it";
    public IReadOnlyList<EngineParameter> Parameters => sameEngine?.Parameters ?? [];

    /// <summary>False when no local definition of the engine exists: its workflow_engine_parameters go to the remote unchecked.</summary>
    public bool ChecksParameters => sameEngine is not null;

    public string? NormalizeTypeVersion(string version)
    {
        var normalized = typeDefinition?.NormalizeTypeVersion(version) ?? version.Trim();
        return typeVersions.FirstOrDefault(v => string.Equals(v, normalized, StringComparison.OrdinalIgnoreCase));
    }

    public Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    public IReadOnlyList<string> BuildArguments(EngineInvocation invocation) =>
        throw new NotSupportedException($"{name} runs at the remote WES server '{remote}', not on this host.");

    public JsonObject? CollectOutputs(RunWorkspace workspace) => null;

    public IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace) => [];
}

/// <summary>Reads a remote's WorkflowTypes and Engines settings into the engines it offers.</summary>
public static class RemoteEngines
{
    public static IReadOnlyList<RemoteEngine> From(string remote, RemoteWesOptions options, IReadOnlyList<IWorkflowEngine> registered) =>
        Read(remote, options, registered, out _);

    public static IReadOnlyList<string> Problems(string remote, RemoteWesOptions options, IReadOnlyList<IWorkflowEngine> registered)
    {
        Read(remote, options, registered, out var problems);
        return problems;
    }

    private static List<RemoteEngine> Read(string remote, RemoteWesOptions options, IReadOnlyList<IWorkflowEngine> registered, out List<string> problems)
    {
        problems = [];
        var types = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var entry in Entries(options.WorkflowTypes, "CWL"))
        {
            var (typeText, versionText) = Split(entry);
            if (string.IsNullOrWhiteSpace(typeText))
            {
                problems.Add($":WorkflowTypes entry '{entry}' names no workflow type; write it as TYPE or TYPE:1.0|1.1");
                continue;
            }

            var type = EngineChoice.CanonicalType(typeText, registered)!;
            var versions = versionText is null
                ? registered.Where(e => e.WorkflowType == type).SelectMany(e => e.WorkflowTypeVersions).Distinct().ToList()
                : versionText.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            if (versions.Count == 0)
            {
                problems.Add($":WorkflowTypes names '{typeText}' without versions, and this server knows none for it; list them, e.g. {type}:1.0|1.1");
            }
            else if (type.Length > 32 || versions.Any(v => v.Length > 32))
            {
                problems.Add($":WorkflowTypes entry '{entry}' is too long (types and versions are stored in 32 characters)");
            }
            else
            {
                types[type] = versions;
            }
        }

        var engines = new List<RemoteEngine>();
        foreach (var entry in Entries(options.Engines, remote))
        {
            var (name, typeList) = Split(entry);
            if (!IsEngineName(name))
            {
                problems.Add($":Engines entry '{entry}' must name an engine by letters, digits, '.', '_' or '-' (up to 64)");
                continue;
            }

            var local = registered.Where(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
            var runs = typeList is not null
                ? typeList.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => EngineChoice.CanonicalType(t, registered)!).ToList()
                : local.Count > 0 ? local.Select(e => e.WorkflowType).ToList() : types.Keys.ToList();
            foreach (var type in runs)
            {
                if (!types.TryGetValue(type, out var versions))
                {
                    problems.Add($":Engines entry '{entry}' runs {type}, which :WorkflowTypes does not list");
                    continue;
                }

                engines.Add(new RemoteEngine(remote, name, type, versions, engines.All(e => e.WorkflowType != type),
                    registered.FirstOrDefault(e => e.WorkflowType == type), local.FirstOrDefault(e => e.WorkflowType == type)));
            }
        }

        return engines;
    }

    private static bool IsEngineName(string name) =>
        name.Length is >= 1 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static IEnumerable<string> Entries(string? setting, string fallback)
    {
        var entries = (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return entries.Length > 0 ? entries : [fallback];
    }

    private static (string Name, string? After) Split(string entry)
    {
        var colon = entry.IndexOf(':');
        return colon < 0 ? (entry, null) : (entry[..colon].Trim(), entry[(colon + 1)..].Trim());
    }
}
