using System.Globalization;
using Wes.Runs;

namespace Wes.Providers.Slurm;

/// <summary>
/// What the controller last said about one job. <see cref="State"/> is Slurm's (PENDING, RUNNING, COMPLETED, ...);
/// <see cref="Comment"/> is the job's --comment, which tells which run a job belongs to.
/// </summary>
public sealed record SlurmJob(
    string JobId, string State, string? Reason = null, string? Nodes = null, string? Name = null, string? ExitCode = null, string? Comment = null)
{
    /// <summary>Slurm says nothing about the job any more (squeue, scontrol and sacct where it exists).</summary>
    public const string Unknown = "UNKNOWN";

    private static readonly HashSet<string> Waiting = new(StringComparer.Ordinal)
    {
        "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD",
        "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT",
    };

    private static readonly HashSet<string> Queued = new(StringComparer.Ordinal)
    {
        "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SPECIAL_EXIT",
    };

    /// <summary>The job has ended for good (or is unknown); nothing of it runs any more.</summary>
    public bool Ended => !Waiting.Contains(State);

    /// <summary>The job has left the queue and has not ended: it runs (or is suspended or completing) on its nodes.</summary>
    public bool Started => !Ended && !Queued.Contains(State);

    /// <summary>Slurm's "code:signal" as one exit code: the code, or 128 + the signal that ended the job.</summary>
    public int? ExitCodeNumber
    {
        get
        {
            var parts = (ExitCode ?? "").Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var code) ||
                !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var signal))
            {
                return null;
            }

            return signal > 0 ? 128 + signal : code;
        }
    }

    /// <summary>One line for the run's system_logs: "Slurm job 12 ended FAILED on n1 (reason NonZeroExitCode, exit code 3:0)".</summary>
    public string Describe()
    {
        if (State == Unknown)
        {
            return $"Slurm job {JobId} is no longer known to Slurm{(Reason is null ? "" : $" ({Reason})")}";
        }

        var details = new[] { Reason is null or "None" ? null : $"reason {Reason}", ExitCode is null ? null : $"exit code {ExitCode}" }
            .Where(d => d is not null).ToList();
        return $"Slurm job {JobId} {(Ended ? "ended" : "is")} {State}{(string.IsNullOrEmpty(Nodes) ? "" : $" on {Nodes}")}" +
            (details.Count == 0 ? "" : $" ({string.Join(", ", details)})");
    }

    /// <summary>
    /// How the run's execution ended, from its job's end: COMPLETED succeeded; FAILED, OUT_OF_MEMORY, TIMEOUT and the
    /// like are the workflow's failure; a lost node or a preemption is the cluster's, so the retry policy may try again.
    /// </summary>
    public ExecutionOutcome Outcome => State switch
    {
        "COMPLETED" => ExitCodeNumber is null or 0 ? ExecutionOutcome.Succeeded : ExecutionOutcome.Failed,
        "FAILED" or "OUT_OF_MEMORY" or "TIMEOUT" or "DEADLINE" => ExecutionOutcome.Failed,
        _ => ExecutionOutcome.SystemError,
    };

    /// <summary>Parses `scontrol show job -o` (one job per line, Key=Value words); Command= and later words may hold spaces and are skipped.</summary>
    public static SlurmJob? FromScontrol(string line)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = word.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                fields.TryAdd(word[..equals], word[(equals + 1)..]);
            }
        }

        return fields.TryGetValue("JobId", out var id) && fields.TryGetValue("JobState", out var state)
            ? new SlurmJob(id, state, fields.GetValueOrDefault("Reason"), NodeList(fields.GetValueOrDefault("NodeList")),
                fields.GetValueOrDefault("JobName"), fields.GetValueOrDefault("ExitCode"), NodeList(fields.GetValueOrDefault("Comment")))
            : null;
    }

    /// <summary>The squeue --format that <see cref="FromSqueue"/> reads.</summary>
    public const string SqueueFormat = "%i|%T|%r|%N|%k|%j";

    /// <summary>
    /// Parses a line of `squeue -o "%i|%T|%r|%N|%k|%j"` (the name last, since it may hold a '|'). A comment holding a
    /// '|' is misread, which only makes a job someone else tagged look like no run's.
    /// </summary>
    public static SlurmJob? FromSqueue(string line)
    {
        var parts = line.Trim().Split('|', 6);
        return parts.Length == 6 && parts[0].Length > 0
            ? new SlurmJob(parts[0], parts[1], parts[2], NodeList(parts[3]), parts[5], Comment: NodeList(parts[4]))
            : null;
    }

    private static string? NodeList(string? value) => string.IsNullOrWhiteSpace(value) || value == "(null)" ? null : value;
}
