using System.Globalization;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Persistence;
using Wes.Runs;
using Wes.Security;

namespace Wes.Api;

/// <summary>
/// Extension endpoints the dashboard reads: a filtered runs list, a run's state history and runs finished per hour.
/// They sit in the API's group, so the same authentication, owner filtering and error shape apply.
/// </summary>
public static class DashboardEndpoints
{
    private const int MaxTextLength = 200;
    private const int MaxHours = 24 * 14;

    public static RouteGroupBuilder MapDashboardEndpoints(this RouteGroupBuilder group, string names)
    {
        var dashboard = group.MapGroup("/dashboard").WithTags("Dashboard (extension)");
        dashboard.MapGet("/runs", SearchRunsAsync).WithName(names + "SearchRuns")
            .Produces<RunOverviewPage>().Produces(StatusCodes.Status304NotModified);
        dashboard.MapGet("/finished-per-hour", FinishedPerHourAsync).WithName(names + "FinishedPerHour")
            .Produces<FinishedPerHour>().Produces(StatusCodes.Status304NotModified);
        // Under /runs/{run_id}, so the owner check of every run-scoped route covers it.
        group.MapGet("/runs/{run_id}/history", GetHistoryAsync).WithName(names + "GetRunHistory").WithTags("Workflow Runs")
            .Produces<RunHistory>().Produces(StatusCodes.Status304NotModified)
            .WithMetadata(ApiErrors.Declared(StatusCodes.Status404NotFound));
        return group;
    }

    /// <summary>
    /// Newest first; state (repeatable or comma-separated), tag (key or key=value) and q (text) narrow it. A tag or text
    /// search reads a bounded window of runs per request, so its pages may be short or empty before the last one.
    /// </summary>
    private static async Task<IResult> SearchRunsAsync(
        string? page_size, string? page_token, string[]? state, string? tag, string? q, HttpContext http, WesCaller caller,
        RunStore store, PageTokens tokens, IOptions<WesOptions> options, CancellationToken ct)
    {
        var size = RunEndpoints.PageSize(page_size, options.Value);
        var filter = Filter(state, tag, q);
        // Positions are seq values as in GET /runs, under a listing name of its own.
        var page = await RunPaging.ReadAsync("dashboard-runs", size, page_token, caller, tokens, async (before, limit, owner, cancellation) =>
        {
            var found = await store.SearchAsync(filter, before, limit, owner, cancellation);
            return (found.Runs, found.StoppedAt);
        }, ct);
        var runs = page.Runs.Select(run => new RunOverview(run.RunId, run.State, run.WorkflowType, run.WorkflowTypeVersion, run.WorkflowUrl,
            run.Engine, RunViews.Time(run.SubmittedAt)!, RunViews.Time(run.StartedAt), RunViews.Time(run.EndedAt), run.ReadTags())).ToList();
        return ConditionalJson.Result(http, new RunOverviewPage(runs, page.NextPageToken));
    }

    private static async Task<IResult> GetHistoryAsync(
        string run_id, HttpContext http, RunStore store, IOptions<WesOptions> options, CancellationToken ct)
    {
        if (await store.GetHistoryFactsAsync(run_id, ct) is not { } run)
        {
            return RunEndpoints.NotFound(run_id);
        }

        var history = await store.GetHistoryAsync(run_id, ct);
        var earlier = new RunWorkspace(options.Value.RunsDir, run_id).ArchivedAttempts;
        return ConditionalJson.Result(http, new RunHistory(
            run.RunId, run.State, run.Attempt, earlier, run.Provider, run.Engine, run.EngineVersion, RunViews.Time(run.SubmittedAt)!,
            history.Select(h => new StateChangeEntry(h.FromState, h.ToState, RunViews.PreciseTime(h.At), h.Actor, h.Reason)).ToList()));
    }

    /// <summary>The last <c>hours</c> hours (24 by default), oldest first, every hour present even when nothing ended in it.</summary>
    private static async Task<IResult> FinishedPerHourAsync(
        string? hours, HttpContext http, WesCaller caller, RunStore store, TimeProvider clock, CancellationToken ct)
    {
        var span = 24;
        if (hours is { Length: > 0 } &&
            (!int.TryParse(hours, NumberStyles.None, CultureInfo.InvariantCulture, out span) || span < 1 || span > MaxHours))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"hours must be a whole number from 1 to {MaxHours}; got '{hours}'.");
        }

        const long hourMs = 3_600_000;
        var currentHour = clock.GetUtcNow().ToUnixTimeMilliseconds() / hourMs * hourMs;
        var since = currentHour - (span - 1) * hourMs;
        var rows = await store.CountFinishedPerHourAsync(since, caller.ListingOwner, ct);
        var byHour = rows.ToLookup(r => r.Hour);
        var buckets = Enumerable.Range(0, span).Select(i =>
        {
            var hour = since + i * hourMs;
            var counts = byHour[hour].ToDictionary(r => r.State, r => r.Count, StringComparer.Ordinal);
            return new FinishedHour(RunViews.Time(hour)!, counts);
        }).ToList();
        return ConditionalJson.Result(http, new FinishedPerHour(span, buckets));
    }

    private static RunFilter Filter(string[]? states, string? tag, string? text)
    {
        var wanted = (states ?? []).SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal).ToList();
        if (wanted.FirstOrDefault(s => RunStateNames.ParseWes(s) == RunState.Unknown && s != "UNKNOWN") is { } bad)
        {
            throw new ApiException(StatusCodes.Status400BadRequest,
                $"state '{bad}' is not a WES state; use one of {string.Join(", ", RunStateNames.All.Select(s => s.ToWes()))}.");
        }

        if (text is { Length: > MaxTextLength } || tag is { Length: > MaxTextLength })
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"q and tag are at most {MaxTextLength} characters.");
        }

        string? key = null, value = null;
        if (!string.IsNullOrEmpty(tag))
        {
            var equals = tag.IndexOf('=', StringComparison.Ordinal);
            (key, value) = equals < 0 ? (tag, null) : (tag[..equals], tag[(equals + 1)..]);
            if (key.Length == 0)
            {
                throw new ApiException(StatusCodes.Status400BadRequest, "tag must be 'key' or 'key=value' with a non-empty key.");
            }
        }

        return new RunFilter(wanted, key, value, string.IsNullOrWhiteSpace(text) ? null : text.Trim());
    }
}
