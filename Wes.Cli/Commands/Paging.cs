using Wes.Cli.Api;

namespace Wes.Cli.Commands;

/// <summary>Follows next_page_token to the end; a server that hands back the token it was given ends the walk too.</summary>
public static class Paging
{
    public static async Task<List<TaskLogEntry>> AllTasksAsync(WesApiClient client, string runId, CancellationToken cancellationToken)
    {
        var tasks = new List<TaskLogEntry>();
        string? token = null;
        do
        {
            var page = (await client.ListTasksAsync(runId, token, cancellationToken)).Value;
            tasks.AddRange(page.TaskLogs ?? []);
            token = Next(token, page.NextPageToken);
        }
        while (token is not null);
        return tasks;
    }

    /// <summary>The token for the next page, or null when there is none.</summary>
    public static string? Next(string? current, string? next) =>
        string.IsNullOrEmpty(next) || next == current ? null : next;
}
