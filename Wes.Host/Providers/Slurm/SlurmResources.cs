using System.Globalization;
using System.Text.RegularExpressions;

namespace Wes.Providers.Slurm;

/// <summary>
/// What a run's batch job asks Slurm for: the settings, overridden by the run's wes.slurm.* tags. Every value becomes
/// one sbatch argument of its own, and each is checked against a strict pattern (or the partition allow-list) first,
/// so no value can pass as another option.
/// </summary>
public static partial class SlurmResources
{
    public const string TagPrefix = "wes.slurm.";
    public const string CpusTag = TagPrefix + "cpus";
    public const string MemTag = TagPrefix + "mem";
    public const string TimeTag = TagPrefix + "time";
    public const string PartitionTag = TagPrefix + "partition";

    public static IReadOnlyList<string> Tags { get; } = [CpusTag, MemTag, TimeTag, PartitionTag];

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\z")]
    private static partial Regex Name();

    /// <summary>Slurm's spellings of a time limit: minutes, minutes:seconds, hours:minutes:seconds, days-hours[:minutes[:seconds]].</summary>
    [GeneratedRegex(@"^(?:\d{1,3}-\d{1,2}(?::\d{1,2}){0,2}|\d{1,6}(?::\d{1,2}){0,2})\z")]
    private static partial Regex Time();

    [GeneratedRegex(@"^[1-9]\d{0,8}[KMGT]?\z")]
    private static partial Regex Memory();

    public static string? NameProblem(string value) =>
        Name().IsMatch(value) ? null : "must be a Slurm name: letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64";

    public static string? TimeProblem(string value) =>
        Time().IsMatch(value) ? null : "must be a Slurm time limit such as 90, 4:00:00 or 1-12:00:00";

    public static string? MemoryProblem(string value) =>
        Memory().IsMatch(value) ? null : "must be a whole size in megabytes or with a unit K, M, G or T, such as 4000 or 4G";

    /// <summary>Why the run's wes.slurm.* tags cannot be used, one line each; empty when they can.</summary>
    public static IReadOnlyList<string> TagProblems(IReadOnlyDictionary<string, string> tags, SlurmOptions settings)
    {
        var problems = new List<string>();
        foreach (var (name, raw) in tags.Where(t => t.Key.StartsWith(TagPrefix, StringComparison.Ordinal)))
        {
            var value = raw.Trim();
            var problem = name switch
            {
                CpusTag => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var cpus) && cpus >= 1 && cpus <= settings.MaxCpus
                    ? null
                    : $"must be a whole number between 1 and {settings.MaxCpus}",
                MemTag => MemoryProblem(value),
                TimeTag => TimeProblem(value),
                PartitionTag => settings.AllowedPartitionList.Count > 0
                    ? settings.AllowedPartitionList.Contains(value, StringComparer.Ordinal)
                        ? null
                        : $"must be one of {string.Join(", ", settings.AllowedPartitionList)}"
                    : NameProblem(value),
                _ => $"is not a Slurm setting this server knows; use {string.Join(", ", Tags)}",
            };
            if (problem is not null)
            {
                problems.Add($"tags: {name} {problem}.");
            }
        }

        return problems;
    }

    /// <summary>The sbatch options for the run's resources: its (already validated) tags over the settings.</summary>
    public static IReadOnlyList<string> Arguments(IReadOnlyDictionary<string, string> tags, SlurmOptions settings)
    {
        string? Pick(string tag, string? setting) =>
            tags.TryGetValue(tag, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : string.IsNullOrWhiteSpace(setting) ? null : setting.Trim();

        var arguments = new List<string>();
        void Add(string option, string? value)
        {
            if (value is not null)
            {
                arguments.Add($"{option}={value}");
            }
        }

        Add("--partition", Pick(PartitionTag, settings.Partition));
        Add("--account", string.IsNullOrWhiteSpace(settings.Account) ? null : settings.Account.Trim());
        Add("--qos", string.IsNullOrWhiteSpace(settings.Qos) ? null : settings.Qos.Trim());
        Add("--time", Pick(TimeTag, settings.Time));
        Add("--cpus-per-task", Pick(CpusTag, settings.Cpus?.ToString(CultureInfo.InvariantCulture)));
        Add("--mem", Pick(MemTag, settings.Mem));
        return arguments;
    }
}
