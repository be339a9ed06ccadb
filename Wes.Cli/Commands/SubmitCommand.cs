using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Wes.Cli.Api;
using Wes.Cli.Submission;

namespace Wes.Cli.Commands;

/// <summary>`wes submit`: a multipart POST /runs with the workflow, its attachments, params and tags.</summary>
public static class SubmitCommand
{
    public static Command Create(CliContext cli)
    {
        var workflow = new Argument<string>("WORKFLOW") { Description = "The workflow file (attached), or an http(s) URL the server fetches" };
        var dir = new Option<string?>("--dir") { Description = "Attach every file under this folder; the workflow must be inside it" };
        var attach = new Option<string[]>("--attach") { Description = "Also attach these files or folders (named relative to the workflow's folder)", AllowMultipleArgumentsPerToken = true };
        var paramsFile = new Option<string?>("--params") { Description = "workflow_params from a .json or .yaml file" };
        var param = new Option<string[]>("--param", "-p") { Description = "A workflow parameter key=value (JSON values are typed), over --params" };
        var tags = new Option<string[]>("--tag") { Description = "A tag key=value" };
        var engine = new Option<string?>("--engine") { Description = "workflow_engine (e.g. cwltool, toil)" };
        var type = new Option<string?>("--type") { Description = "workflow_type (CWL, SMK, NFL, WDL); inferred from the file when absent" };
        var typeVersion = new Option<string?>("--type-version") { Description = "workflow_type_version; read from the file or taken from service-info when absent" };
        var wait = new Option<bool>("--wait") { Description = "Wait for the run to end; exit 1 if it did not complete" };
        var command = new Command("submit", "Submit a workflow run and print its id")
        {
            workflow, dir, attach, paramsFile, param, tags, engine, type, typeVersion, wait, cli.Interval,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(dir) is not null && result.GetValue(attach) is { Length: > 0 })
            {
                result.AddError("--dir and --attach cannot be used together.");
            }
        });

        command.SetAction(async (parse, ct) =>
        {
            var workflowPath = parse.GetValue(workflow)!;
            var remote = !File.Exists(workflowPath) && Uri.TryCreate(workflowPath, UriKind.Absolute, out var url) && url.Scheme is "http" or "https";
            var (files, workflowUrl) = remote && parse.GetValue(dir) is null && parse.GetValue(attach) is not { Length: > 0 }
                ? ([], workflowPath)
                : Attachments.Collect(workflowPath, parse.GetValue(dir), parse.GetValue(attach) ?? []);
            var workflowParams = WorkflowParams.Build(parse.GetValue(paramsFile), parse.GetValue(param) ?? []);
            var tagObject = new JsonObject(KeyValues.Parse(parse.GetValue(tags) ?? [], "--tag")
                .Select(t => KeyValuePair.Create(t.Key, (JsonNode?)JsonValue.Create(t.Value))));

            using var client = cli.CreateClient(parse);
            var (workflowType, version) = await TypeAsync(client, workflowPath, remote, parse.GetValue(type), parse.GetValue(typeVersion), ct);
            using var form = new MultipartFormDataContent();
            form.Add(new StringContent(workflowType), "workflow_type");
            form.Add(new StringContent(version), "workflow_type_version");
            form.Add(new StringContent(workflowUrl), "workflow_url");
            form.Add(new StringContent(workflowParams.ToJsonString()), "workflow_params");
            form.Add(new StringContent(tagObject.ToJsonString()), "tags");
            if (parse.GetValue(engine) is { Length: > 0 } engineName)
            {
                form.Add(new StringContent(engineName), "workflow_engine");
            }

            foreach (var file in files)
            {
                var part = new StreamContent(File.OpenRead(file.LocalPath));
                part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                // The part's filename carries the relative path; servers read subfolders from it.
                part.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data")
                {
                    Name = "\"workflow_attachment\"", FileName = "\"" + file.Name.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
                };
                form.Add(part);
            }

            var (submitted, json) = await client.SubmitAsync(form, ct);
            var runId = submitted.RunId ?? throw new WesApiException("The server accepted the run but sent no run_id.");
            var asJson = parse.GetValue(cli.Json);
            if (!parse.GetValue(wait))
            {
                await cli.Output.WriteLineAsync(asJson ? json : runId);
                return ExitCodes.Success;
            }

            if (!asJson)
            {
                await cli.Output.WriteLineAsync(runId);
            }

            var watcher = new RunWatcher(cli, client, cli.PollInterval(parse), asJson);
            return ExitCodes.ForFinalState(await watcher.WaitAsync(runId, ct));
        });
        return command;
    }

    /// <summary>The options win; then what the file says; then, for a version still unknown, the server's newest for the type.</summary>
    private static async Task<(string Type, string Version)> TypeAsync(
        WesApiClient client, string workflow, bool remote, string? type, string? version, CancellationToken cancellationToken)
    {
        var (inferredType, inferredVersion) = WorkflowTypes.Infer(workflow, remote ? null : await File.ReadAllTextAsync(workflow, cancellationToken));
        type ??= inferredType ?? throw new CliUsageException($"Cannot tell the workflow type of '{workflow}'; give --type and --type-version.");
        version ??= string.Equals(type, inferredType, StringComparison.OrdinalIgnoreCase) ? inferredVersion : null;
        if (version is null)
        {
            var info = (await client.GetServiceInfoAsync(cancellationToken)).Value;
            var versions = info.WorkflowTypeVersions?.FirstOrDefault(t => string.Equals(t.Key, type, StringComparison.OrdinalIgnoreCase)).Value;
            version = versions?.LastOrDefault()
                ?? throw new CliUsageException($"The server lists no versions for workflow type {type}; give --type-version.");
        }

        return (type, version);
    }
}
