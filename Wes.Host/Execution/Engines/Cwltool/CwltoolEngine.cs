using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wes.Runs;

namespace Wes.Execution.Engines.Cwltool;

/// <summary>The reference CWL runner, run as `cwltool [options] workflow params.json`.</summary>
public sealed class CwltoolEngine : IWorkflowEngine
{
    public string Name => "cwltool";
    public string WorkflowType => "CWL";
    public IReadOnlyList<string> WorkflowTypeVersions { get; } = ["v1.0", "v1.1", "v1.2"];
    public string Executable => "cwltool";
    public string InstallHint => "install it with `apt-get install -y cwltool` (or `pip install cwltool`)";

    public IReadOnlyList<EngineParameter> Parameters { get; } =
    [
        new("parallel", "boolean", "false", "Run independent jobs in parallel (--parallel)."),
        new("debug", "boolean", "false", "Verbose engine log (--debug)."),
        new("strict", "boolean", "true", "Strict validation of the workflow document (--strict / --non-strict)."),
        new("relax_path_checks", "boolean", "false", "Allow spaces and other characters in file names (--relax-path-checks)."),
        new("no_container", "boolean", "false", "Run tools on the host even when they ask for a container (--no-container)."),
        new("on_error", "string", "stop", "On a failed step: stop or continue (--on-error).", ["stop", "continue"]),
    ];

    public string? NormalizeTypeVersion(string version)
    {
        var canonical = version.StartsWith('v') ? version : "v" + version;
        return WorkflowTypeVersions.Contains(canonical, StringComparer.Ordinal) ? canonical : null;
    }

    public async Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(executablePath, "--version")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(startInfo)!;
        try
        {
            var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            // "/usr/bin/cwltool 3.1.20230209161050": the version is the last word.
            var words = output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return process.ExitCode == 0 && words.Length > 0 ? words[^1] : null;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    public IReadOnlyList<string> BuildArguments(EngineInvocation invocation)
    {
        var workspace = invocation.Workspace;
        var parameters = invocation.Parameters;
        var arguments = new List<string>
        {
            "--disable-color", "--timestamps",
            "--outdir", workspace.OutputsDir,
            "--tmpdir-prefix", workspace.TmpDir + Path.DirectorySeparatorChar,
            "--tmp-outdir-prefix", workspace.TmpDir + Path.DirectorySeparatorChar,
        };
        AddFlag(arguments, parameters, "parallel", "--parallel");
        AddFlag(arguments, parameters, "debug", "--debug");
        AddFlag(arguments, parameters, "relax_path_checks", "--relax-path-checks");
        AddFlag(arguments, parameters, "no_container", "--no-container");
        arguments.Add(parameters.TryGetValue("strict", out var strict) && strict == "false" ? "--non-strict" : "--strict");
        if (parameters.TryGetValue("on_error", out var onError))
        {
            arguments.AddRange(["--on-error", onError]);
        }

        arguments.Add(invocation.WorkflowPath);
        arguments.Add(workspace.ParamsPath);
        return arguments;
    }

    public JsonObject? ReadOutputs(RunWorkspace workspace)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(workspace.StdoutPath)) as JsonObject;
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            return null;
        }
    }

    public IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace) =>
        File.Exists(workspace.StderrPath) ? CwltoolLogParser.Parse(ReadShared(workspace.StderrPath)) : [];

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static void AddFlag(List<string> arguments, IReadOnlyDictionary<string, string> parameters, string name, string flag)
    {
        if (parameters.TryGetValue(name, out var value) && value == "true")
        {
            arguments.Add(flag);
        }
    }
}
