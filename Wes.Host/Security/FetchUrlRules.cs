using System.Text.Json.Nodes;

namespace Wes.Security;

/// <summary>
/// Submission-time checks of the URLs the server or its engine will fetch: no credentials in workflow_url, and no
/// address literal the fetch policy refuses. Host names are judged when the connection is made (see OutboundAddressPolicy).
/// </summary>
public static class FetchUrlRules
{
    public static IEnumerable<string> WorkflowUrlProblems(string url, OutboundAddressPolicy policy)
    {
        if (!TryHttpUrl(url, out var uri))
        {
            yield break;
        }

        if (uri.UserInfo.Length > 0)
        {
            yield return "workflow_url must not carry credentials (user:password@): they would be stored with the run and shown in its log.";
        }

        if (policy.LiteralHostRefusal(uri) is { } refusal)
        {
            yield return Refused("workflow_url", refusal);
        }
    }

    /// <summary>The http(s) locations of CWL File and Directory inputs, which the engine downloads before the run.</summary>
    public static IEnumerable<string> InputUrlProblems(JsonObject? workflowParams, OutboundAddressPolicy policy) =>
        from reference in Api.WorkflowParamsStrings.In(workflowParams)
        where reference.IsCwlFileReference && TryHttpUrl(reference.Value, out _)
        let refusal = policy.LiteralHostRefusal(new Uri(reference.Value))
        where refusal is not null
        select Refused(reference.Where, refusal);

    private static string Refused(string field, string refusal) =>
        $"{field} is refused: {refusal}, and the server does not fetch from such addresses unless WES_ALLOWED_FETCH_HOSTS allows them.";

    private static bool TryHttpUrl(string text, out Uri uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri!) && !text.StartsWith('/') && uri.Scheme is "http" or "https";
}
