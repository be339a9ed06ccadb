namespace Wes.Bench;

/// <summary>The commands of the one Wes.Host executable that the scenarios start.</summary>
internal enum ServerRole
{
    /// <summary>No command: the API and an executor pool in one process.</summary>
    Serve,

    /// <summary>`api`: the API only; executors elsewhere run the work.</summary>
    Api,

    /// <summary>`executor`: runs only, no HTTP port.</summary>
    Executor,
}
