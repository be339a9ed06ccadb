using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Wes.Execution;

namespace Wes.Providers.Remote;

/// <summary>The multipart RunWorkflow form a stored run is forwarded with: its request's fields and every attached file, subfolders kept.</summary>
public static class RemoteSubmission
{
    /// <param name="localTags">Tags only this server acts on, left out so the remote does not act on them again.</param>
    /// <param name="forwardEngine">False when the remote's engine is only a name this server gave it: the remote then picks its own.</param>
    public static MultipartFormDataContent Form(ExecutionRequest request, IReadOnlyCollection<string> localTags, bool forwardEngine)
    {
        var submitted = JsonNode.Parse(request.Run.RequestJson) as JsonObject ?? [];
        var form = new MultipartFormDataContent();
        try
        {
            Add(form, "workflow_params", (submitted["workflow_params"] ?? new JsonObject()).ToJsonString());
            Add(form, "workflow_type", request.Run.WorkflowType);
            Add(form, "workflow_type_version", request.Run.WorkflowTypeVersion);
            Add(form, "workflow_url", request.Run.WorkflowUrl);
            var tags = submitted["tags"] as JsonObject ?? [];
            foreach (var tag in localTags)
            {
                tags.Remove(tag);
            }

            // The remote's own listing then tells which run of ours each of its runs belongs to.
            tags["wes.forwarded_run_id"] = request.Run.RunId;
            Add(form, "tags", tags.ToJsonString());
            if (forwardEngine)
            {
                foreach (var field in new[] { "workflow_engine", "workflow_engine_version" })
                {
                    if (submitted[field] is JsonValue value)
                    {
                        Add(form, field, value.ToString());
                    }
                }
            }

            if (submitted["workflow_engine_parameters"] is JsonObject parameters)
            {
                Add(form, "workflow_engine_parameters", parameters.ToJsonString());
            }

            AddAttachments(form, request.Workspace);
            return form;
        }
        catch
        {
            form.Dispose();
            throw;
        }
    }

    private static void Add(MultipartFormDataContent form, string name, string value) =>
        form.Add(new StringContent(value, System.Text.Encoding.UTF8), name);

    /// <summary>Every regular file under exe/ except the params file this server writes, named by its path below exe/ with '/'.</summary>
    private static void AddAttachments(MultipartFormDataContent form, RunWorkspace workspace)
    {
        if (!Directory.Exists(workspace.ExeDir))
        {
            return;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false };
        foreach (var path in Directory.EnumerateFiles(workspace.ExeDir, "*", options).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(workspace.ExeDir, path).Replace(Path.DirectorySeparatorChar, '/');
            if (relative == RunWorkspace.ParamsFileName)
            {
                continue;
            }

            // Never a plain open: a FIFO among the attachments would block it for good.
            var stream = RegularFile.TryOpen(path, out _) ?? throw new IOException($"attachment '{relative}' is not a regular file that can be read");
            var content = new StreamContent(stream, 81920);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, "workflow_attachment", relative);
        }
    }
}
