namespace Wes.Execution.Sandbox;

public enum SandboxState
{
    /// <summary>Engines start inside bubblewrap.</summary>
    Enabled,

    /// <summary>The sandbox is required but cannot be used: engines do not start.</summary>
    Unavailable,

    /// <summary>The operator turned the sandbox off: engines start as plain child processes.</summary>
    DisabledByOperator,
}

/// <summary>Whether engines are confined, in words fit for a log line and for service-info.</summary>
public sealed record SandboxStatus(SandboxState State, string Description)
{
    public static SandboxStatus Enabled(string description) => new(SandboxState.Enabled, description);
    public static SandboxStatus Unavailable(string reason) => new(SandboxState.Unavailable, reason);
    public static SandboxStatus DisabledByOperator { get; } = new(SandboxState.DisabledByOperator, "off (WES_SANDBOX=off)");

    /// <summary>The service-info tag: "bubblewrap 0.8.0 (...)", "off (WES_SANDBOX=off)" or "unavailable: ...".</summary>
    public string Tag => State == SandboxState.Unavailable ? "unavailable: " + Description : Description;
}

/// <summary>
/// What one engine start needs to know: its run's folders, the engine's program, the folders inputs may come from, and
/// files or folders this run's engine must not see besides the usual ones (the Slurm client's, unless it uses Slurm).
/// </summary>
public sealed record SandboxContext(
    RunWorkspace Workspace, string EngineExecutablePath, IReadOnlyList<string> ReadOnlyInputRoots, IReadOnlyList<string>? HiddenPaths = null);

/// <summary>The sandbox is required and cannot be used; the message says why and how to fix it or opt out.</summary>
public sealed class SandboxUnavailableException(string message) : InvalidOperationException(message);
