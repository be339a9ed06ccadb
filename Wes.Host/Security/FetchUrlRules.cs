using System.Text.Json.Nodes;

namespace Wes.Security;

/// <summary>
/// Submission-time checks of the URLs the server or its engine will fetch: no credentials in workflow_url, and no
/// address literal the fetch policy refuses. The host name of a workflow_url is judged when the server connects (see
/// OutboundAddressPolicy); those of input URLs, which the engine fetches itself, when the run is submitted (see InputHostCheck).
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

    /// <summary>
    /// The http(s) URLs in workflow_params that an engine downloads before the run. For CWL, the location or path of
    /// each File and Directory; for the other types, where the workflow decides which parameters are files (Nextflow
    /// stages an http(s) URL given to file(), a Snakefile may hand one to its storage plugins), every http(s) string.
    /// </summary>
    public static IEnumerable<(string Where, Uri Url)> InputUrls(JsonObject? workflowParams, bool cwl) =>
        from reference in Api.WorkflowParamsStrings.In(workflowParams)
        where reference.IsCwlFileReference || !cwl
        where TryHttpUrl(reference.Value, out _)
        select (reference.Where, new Uri(reference.Value));

    internal static string Refused(string field, string refusal) =>
        $"{field} is refused: {refusal}, and the server does not fetch from such addresses unless WES_ALLOWED_FETCH_HOSTS allows them.";

    private static bool TryHttpUrl(string text, out Uri uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri!) && !text.StartsWith('/') && uri.Scheme is "http" or "https";
}
