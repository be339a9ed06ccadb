using Wes.Configuration;

namespace Wes.Providers.Slurm;

/// <summary>
/// Where and how runs go to Slurm (Wes:Slurm): the resources every run's batch job asks for, which a run's
/// wes.slurm.* tags may override, and how often the one poller asks the controller about the jobs it follows.
/// </summary>
public sealed class SlurmOptions
{
    /// <summary>Offers the Slurm provider (WES_SLURM_ENABLED); DEFAULT_WES_PROVIDER=Slurm turns it on too.</summary>
    public bool Enabled { get; set; }

    /// <summary>Partition of each run's job (WES_SLURM_PARTITION); empty means the cluster's default partition.</summary>
    public string? Partition { get; set; }

    /// <summary>Partitions a run may pick with wes.slurm.partition, comma-separated (WES_SLURM_PARTITIONS); empty means any valid name.</summary>
    public string? AllowedPartitions { get; set; }

    public string? Account { get; set; }
    public string? Qos { get; set; }

    /// <summary>Time limit in a Slurm spelling ("90", "4:00:00", "1-12:00:00") (WES_SLURM_TIME); empty means the partition's.</summary>
    public string? Time { get; set; }

    /// <summary>CPUs of each run's job (WES_SLURM_CPUS); for Toil and Snakemake on Slurm this is the engine's own job.</summary>
    public int? Cpus { get; set; }

    /// <summary>Memory of each run's job, e.g. "4G" (WES_SLURM_MEM).</summary>
    public string? Mem { get; set; }

    /// <summary>The most CPUs the wes.slurm.cpus tag may ask for.</summary>
    public int MaxCpus { get; set; } = 128;

    /// <summary>The cluster's slurm.conf (WES_SLURM_CONF), given to every Slurm command and job as SLURM_CONF; empty means Slurm's own default.</summary>
    public string? ConfigPath { get; set; }

    /// <summary>Where sbatch, squeue, scontrol and scancel are (WES_SLURM_BIN); empty means PATH.</summary>
    public string? BinDir { get; set; }

    /// <summary>How often the poller asks about the jobs it follows (WES_SLURM_POLL); it backs off while the controller does not answer.</summary>
    public double PollSeconds { get; set; } = 5;

    /// <summary>The longest wait between polls while the controller does not answer.</summary>
    public double MaxPollSeconds { get; set; } = 60;

    /// <summary>How long one Slurm command may take before it counts as not answering.</summary>
    public double CommandTimeoutSeconds { get; set; } = 30;

    public IReadOnlyList<string> AllowedPartitionList =>
        (AllowedPartitions ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Whether this server offers Slurm: asked for, or the default provider.</summary>
    public static bool IsOn(WesOptions options) =>
        options.Slurm.Enabled || string.Equals(options.DefaultProvider, SlurmProvider.ProviderName, StringComparison.OrdinalIgnoreCase);

    /// <summary>Start-up checks of Wes:Slurm, each failure named.</summary>
    public static void Check(SlurmOptions slurm, SettingProblems problems)
    {
        void Value(string? value, string setting, Func<string, string?> problem)
        {
            if (!string.IsNullOrWhiteSpace(value) && problem(value.Trim()) is { } rule)
            {
                problems.Check(false, setting, rule, value);
            }
        }

        Value(slurm.Partition, "WES_SLURM_PARTITION (Wes:Slurm:Partition)", SlurmResources.NameProblem);
        foreach (var partition in slurm.AllowedPartitionList)
        {
            Value(partition, "WES_SLURM_PARTITIONS (Wes:Slurm:AllowedPartitions)", SlurmResources.NameProblem);
        }

        Value(slurm.Account, "WES_SLURM_ACCOUNT (Wes:Slurm:Account)", SlurmResources.NameProblem);
        Value(slurm.Qos, "WES_SLURM_QOS (Wes:Slurm:Qos)", SlurmResources.NameProblem);
        Value(slurm.Time, "WES_SLURM_TIME (Wes:Slurm:Time)", SlurmResources.TimeProblem);
        Value(slurm.Mem, "WES_SLURM_MEM (Wes:Slurm:Mem)", SlurmResources.MemoryProblem);
        problems.Check(slurm.MaxCpus is >= 1 and <= 100_000, "Wes:Slurm:MaxCpus", "must be between 1 and 100000", slurm.MaxCpus);
        problems.Check(slurm.Cpus is null || (slurm.Cpus >= 1 && slurm.Cpus <= slurm.MaxCpus),
            "WES_SLURM_CPUS (Wes:Slurm:Cpus)", "must be between 1 and Wes:Slurm:MaxCpus", slurm.Cpus);
        problems.Check(string.IsNullOrWhiteSpace(slurm.BinDir) || (Path.IsPathFullyQualified(slurm.BinDir) && Directory.Exists(slurm.BinDir)),
            "WES_SLURM_BIN (Wes:Slurm:BinDir)", "must be the absolute path of an existing folder", slurm.BinDir);
        problems.Check(string.IsNullOrWhiteSpace(slurm.ConfigPath) || (Path.IsPathFullyQualified(slurm.ConfigPath) && File.Exists(slurm.ConfigPath)),
            "WES_SLURM_CONF (Wes:Slurm:ConfigPath)", "must be the absolute path of an existing slurm.conf", slurm.ConfigPath);
        problems.Check(slurm.PollSeconds is >= 0.1 and <= 3600, "WES_SLURM_POLL (Wes:Slurm:PollSeconds)", "must be between 0.1 and 3600", slurm.PollSeconds);
        problems.Check(slurm.MaxPollSeconds >= slurm.PollSeconds && slurm.MaxPollSeconds <= 3600,
            "Wes:Slurm:MaxPollSeconds", "must be between WES_SLURM_POLL and 3600", slurm.MaxPollSeconds);
        problems.Check(slurm.CommandTimeoutSeconds is >= 1 and <= 600,
            "Wes:Slurm:CommandTimeoutSeconds", "must be between 1 and 600", slurm.CommandTimeoutSeconds);
    }
}
