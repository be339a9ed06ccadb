using Dapper;
using Wes.Runs;

namespace Wes.Persistence;

/// <summary>What a filtered run listing asks for; every member is optional.</summary>
public sealed record RunFilter(IReadOnlyList<string> States, string? TagKey, string? TagValue, string? Text);

/// <summary>
/// One page of a search, and, when a text or tag search stopped at the end of its window before the page filled, the
/// seq it stopped at: the next page continues below it.
/// </summary>
public sealed record RunSearchPage(IReadOnlyList<Run> Runs, long? StoppedAt);

/// <summary>Finished runs of one hour (epoch ms of its start) that ended in one state.</summary>
public sealed class FinishedCount
{
    public long Hour { get; set; }
    public string State { get; set; } = "";
    public long Count { get; set; }
}

public sealed partial class RunStore
{
    private const string SummaryColumns =
        "seq, run_id, state, submitted_at, started_at, ended_at, workflow_type, workflow_type_version, workflow_url, engine, tags_json";

    /// <summary>Runs (by seq) a text or tag search reads at most per page, so a rare match cannot cost a full scan.</summary>
    public const int SearchWindow = 20_000;

    /// <summary>
    /// Newest first, keyset-paged on seq like <see cref="ListAsync"/>, narrowed by <paramref name="filter"/>. The state
    /// filter walks the (state, seq) index; tag and text filters read rows newest first, at most
    /// <see cref="SearchWindow"/> seq values below the page's start, and say where they stopped if the page is not full.
    /// </summary>
    public Task<RunSearchPage> SearchAsync(
        RunFilter filter, long? beforeSeq, int limit, string? owner, CancellationToken cancellationToken) =>
        SearchAsync(filter, beforeSeq, limit, SearchWindow, owner, cancellationToken);

    internal async Task<RunSearchPage> SearchAsync(
        RunFilter filter, long? beforeSeq, int limit, int window, string? owner, CancellationToken cancellationToken)
    {
        var conditions = new List<string>();
        if (beforeSeq is not null)
        {
            conditions.Add("seq < @beforeSeq");
        }

        long? floor = null;
        if (filter.TagKey is not null || filter.Text is not null)
        {
            // MIN and MAX of the key are one index lookup each.
            var bounds = await QueryAsync((connection, ct) => connection.QuerySingleAsync<SeqBounds>(new CommandDefinition(
                "SELECT MIN(seq) AS low, MAX(seq) AS high FROM runs", cancellationToken: ct)), cancellationToken);
            var top = beforeSeq ?? (bounds.High ?? 0) + 1;
            if (bounds.Low is { } low && top - window > low)
            {
                floor = top - window;
                conditions.Add("seq >= @floor");
            }
        }

        if (owner is not null)
        {
            conditions.Add("owner = @owner");
        }

        var postgres = database.Kind == DatabaseKind.PostgreSql;
        if (filter.States.Count > 0)
        {
            conditions.Add(postgres ? "state = ANY(@states)" : "state IN @states");
        }

        if (filter.TagKey is not null)
        {
            // json_each and jsonb_each_text take any key as a value, so no key needs quoting into a JSON path.
            var each = postgres ? "jsonb_each_text(runs.tags_json::jsonb)" : "json_each(runs.tags_json)";
            conditions.Add(filter.TagValue is null
                ? $"EXISTS (SELECT 1 FROM {each} t WHERE t.key = @tagKey)"
                : $"EXISTS (SELECT 1 FROM {each} t WHERE t.key = @tagKey AND t.value = @tagValue)");
        }

        if (filter.Text is not null)
        {
            var like = postgres ? "ILIKE" : "LIKE";
            // Tags are matched decoded: tags_json escapes non-ASCII and markup characters, and has quotes and colons.
            var each = postgres ? "jsonb_each_text(runs.tags_json::jsonb)" : "json_each(runs.tags_json)";
            conditions.Add($"(run_id {like} @text ESCAPE '\\' OR workflow_url {like} @text ESCAPE '\\' OR EXISTS " +
                $"(SELECT 1 FROM {each} t WHERE t.key {like} @text ESCAPE '\\' OR t.value {like} @text ESCAPE '\\'))");
        }

        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        var text = filter.Text is null ? null : "%" + EscapeLike(filter.Text) + "%";
        var rows = await QueryListAsync<Run>(
            $"SELECT {SummaryColumns} FROM runs{where} ORDER BY seq DESC LIMIT @limit",
            new { beforeSeq, limit, owner, floor, states = filter.States.ToArray(), tagKey = filter.TagKey, tagValue = filter.TagValue, text },
            cancellationToken);
        return new RunSearchPage(rows, rows.Count < limit ? floor : null);
    }

    /// <summary>
    /// What a run's history shows beside its state changes (id, state, attempt, provider, engine and submission time),
    /// without the request, log and output columns a dashboard polling every few seconds has no use for; null if unknown.
    /// </summary>
    public Task<Run?> GetHistoryFactsAsync(string runId, CancellationToken cancellationToken) =>
        QueryAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<Run>(new CommandDefinition(
            "SELECT run_id, state, attempt, provider, engine, engine_version, submitted_at FROM runs WHERE run_id = @runId",
            new { runId }, cancellationToken: ct)), cancellationToken);

    /// <summary>
    /// Runs that ended at or after <paramref name="sinceEpochMs"/>, counted per hour and final state; only
    /// <paramref name="owner"/>'s runs when one is given. Reads the ended_at index, so only the window's runs.
    /// </summary>
    public Task<IReadOnlyList<FinishedCount>> CountFinishedPerHourAsync(long sinceEpochMs, string? owner, CancellationToken cancellationToken)
    {
        var ownerCondition = owner is null ? "" : " AND owner = @owner";
        return QueryListAsync<FinishedCount>(
            $"""
            SELECT (ended_at / 3600000) * 3600000 AS hour, state, COUNT(*) AS count FROM runs
            WHERE ended_at >= @sinceEpochMs{ownerCondition}
            GROUP BY (ended_at / 3600000) * 3600000, state
            """,
            new { sinceEpochMs, owner }, cancellationToken);
    }

    private sealed class SeqBounds
    {
        public long? Low { get; set; }
        public long? High { get; set; }
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
