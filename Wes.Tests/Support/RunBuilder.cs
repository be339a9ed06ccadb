using Wes.Runs;

namespace Wes.Tests.Support;

/// <summary>A valid stored run by default, for tests that talk to the store directly.</summary>
public static class RunBuilder
{
    public static Run Queued(string? runId = null, string tags = "{}") => new()
    {
        RunId = runId ?? Guid.NewGuid().ToString(),
        State = RunState.Queued.ToWes(),
        SubmittedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        Provider = "Mock",
        WorkflowType = "CWL",
        WorkflowTypeVersion = "v1.0",
        WorkflowUrl = "hello.cwl",
        Engine = "cwltool",
        RequestJson = """{"workflow_params": {}, "workflow_type": "CWL", "workflow_type_version": "v1.0", "tags": {}, "workflow_url": "hello.cwl"}""",
        TagsJson = tags,
    };
}
