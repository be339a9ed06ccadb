using Wes.Runs;

namespace Wes.Persistence;

/// <summary>What a filtered run listing asks for; every member is optional.</summary>
public sealed record RunFilter(IReadOnlyList<string> States, string? TagKey, string? TagValue, string? Text)
{
    public static readonly RunFilter None = new([], null, null, null);
}

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

    /// <summary>
    /// Newest first, keyset-paged on seq like <see cref="ListAsync"/>, narrowed by <paramref name="filter"/>. The state
    /// filter walks the (state, seq) index; tag and text filters read rows newest first until the page is full.
    /// </summary>
    public Task<IReadOnlyList<Run>> SearchAsync(
        RunFilter filter, long? beforeSeq, int limit, string? owner, CancellationToken cancellationToken)
    {
        var conditions = new List<string>();
        if (beforeSeq is not null)
        {
            conditions.Add("seq < @beforeSeq");
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
            conditions.Add($"(run_id {like} @text ESCAPE '\\' OR workflow_url {like} @text ESCAPE '\\' OR tags_json {like} @text ESCAPE '\\')");
        }

        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        var text = filter.Text is null ? null : "%" + EscapeLike(filter.Text) + "%";
        return QueryListAsync<Run>(
            $"SELECT {SummaryColumns} FROM runs{where} ORDER BY seq DESC LIMIT @limit",
            new { beforeSeq, limit, owner, states = filter.States.ToArray(), tagKey = filter.TagKey, tagValue = filter.TagValue, text },
            cancellationToken);
    }

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

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
