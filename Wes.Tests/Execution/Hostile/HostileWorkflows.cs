namespace Wes.Tests.Execution.Hostile;

/// <summary>CWL tools that misbehave on purpose: each runs one shell script, in the tool's own job folder.</summary>
public static class HostileWorkflows
{
    /// <summary>A line shaped like cwltool's own job lines, with a time no clock can show.</summary>
    public const string ImpossibleJobLine = "[2026-13-45 25:61:61] INFO [job x] completed success";

    /// <summary>A CommandLineTool that runs <paramref name="script"/> with sh; cwltool runs it in &lt;run&gt;/tmp/&lt;job&gt;.</summary>
    public static string Tool(string script) => $$"""
        cwlVersion: v1.0
        class: CommandLineTool
        baseCommand: [sh, -c]
        arguments: [{{System.Text.Json.JsonSerializer.Serialize(script)}}]
        inputs: []
        outputs: []
        """;

    public static Support.RunRequestBuilder Request(string script) =>
        new Support.RunRequestBuilder().WithoutAttachments()
            .With("workflow_url", "hostile.cwl").With("workflow_params", "{}")
            .WithAttachment("hostile.cwl", Tool(script));
}
