using System.Text.Json.Nodes;
using Wes.Tests.Support;
using Xunit.Sdk;

namespace Wes.Tests.Api;

/// <summary>The contract checker itself must catch what it is there to catch.</summary>
public sealed class SpecContractTests
{
    [Theory]
    [InlineData("""{"run_id": "a", "state": "DONE"}""", "RunStatus")]
    [InlineData("""{"run_id": "a", "state": null}""", "RunStatus")]
    [InlineData("""{"state": "QUEUED"}""", "RunStatus")]
    [InlineData("""{"run_id": "a", "state": "QUEUED", "tags": {}, "startTime": "x"}""", "RunSummary")]
    [InlineData("""{"run_id": "a", "state": "QUEUED"}""", "RunSummary")]
    [InlineData("""{"task_logs": [{"id": "t"}], "next_page_token": ""}""", "TaskListResponse")]
    [InlineData("""{"msg": "x", "status_code": "400"}""", "ErrorResponse")]
    public void Checker_RejectsResponsesThatBreakTheSpec(string json, string schema)
    {
        Assert.Throws<TrueException>(() => SpecContract.AssertMatches(JsonNode.Parse(json), schema));
    }

    [Fact]
    public void Checker_AcceptsAValidSummary()
    {
        SpecContract.AssertMatches(JsonNode.Parse("""{"run_id": "a", "state": "QUEUED", "tags": {"k": "v"}}"""), "RunSummary");
    }
}
