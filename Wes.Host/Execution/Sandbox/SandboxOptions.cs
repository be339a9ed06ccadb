namespace Wes.Execution.Sandbox;

/// <summary>How engines are confined (Wes:Sandbox). By default every engine runs inside bubblewrap, or not at all.</summary>
public sealed class SandboxOptions
{
    public const string ModeRequired = "Required";
    public const string ModeOff = "Off";
    public static readonly string[] Modes = [ModeRequired, ModeOff];

    /// <summary>
    /// Required (the default): no engine runs outside the sandbox; if bubblewrap is missing or broken, runs end
    /// SYSTEM_ERROR. Off: engines run as plain child processes of the server, as the server's user (WES_SANDBOX).
    /// </summary>
    public string Mode { get; set; } = ModeRequired;

    /// <summary>
    /// The user engines run as (a name or a uid), when the server runs as root (WES_SANDBOX_USER). Empty: the
    /// server's own user.
    /// </summary>
    public string? User { get; set; }

    /// <summary>Whether engines reach the network (WES_SANDBOX_NETWORK); false gives them only their own loopback.</summary>
    public bool Network { get; set; } = true;

    /// <summary>The bwrap program (WES_SANDBOX_BWRAP); empty means `bwrap` on PATH.</summary>
    public string? BwrapPath { get; set; }

    /// <summary>
    /// Environment variables engines keep although their names look like secrets (for example AWS_ACCESS_KEY_ID for a
    /// Toil cloud job store), separated by commas.
    /// </summary>
    public string? PassEnvironment { get; set; }

    /// <summary>Further files or folders engines must not see, separated by ':' or ','.</summary>
    public string? HidePaths { get; set; }

    public bool IsOff => string.Equals(Mode?.Trim(), ModeOff, StringComparison.OrdinalIgnoreCase);

    public IReadOnlyList<string> PassEnvironmentList =>
        (PassEnvironment ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public IReadOnlyList<string> HidePathList =>
        (HidePaths ?? "").Split([':', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
