using Wes.Configuration;

namespace Wes.Execution.Sandbox;

/// <summary>Start-up checks of Wes:Sandbox, each failure named. Whether bubblewrap works is probed, not validated.</summary>
public static class SandboxSettingsRules
{
    public static void Check(SandboxOptions sandbox, SettingProblems problems)
    {
        problems.Check(SandboxOptions.Modes.Contains(sandbox.Mode?.Trim(), StringComparer.OrdinalIgnoreCase),
            "WES_SANDBOX (Wes:Sandbox:Mode)", $"must be one of {string.Join(", ", SandboxOptions.Modes)}", sandbox.Mode);
        problems.Check(string.IsNullOrWhiteSpace(sandbox.BwrapPath) || Path.IsPathFullyQualified(sandbox.BwrapPath),
            "WES_SANDBOX_BWRAP (Wes:Sandbox:BwrapPath)", "must be an absolute path", sandbox.BwrapPath);
        foreach (var path in sandbox.HidePathList)
        {
            problems.Check(Path.IsPathFullyQualified(path), "Wes:Sandbox:HidePaths", "must list absolute paths", path);
        }

        if (!string.IsNullOrWhiteSpace(sandbox.User))
        {
            problems.Check(EngineUser.Resolve(sandbox.User) is not null,
                "WES_SANDBOX_USER (Wes:Sandbox:User)", "must name an existing user or be a uid", sandbox.User);
            problems.Check(EngineUser.ServerIsRoot, "WES_SANDBOX_USER (Wes:Sandbox:User)",
                "can only be used when the server runs as root (only root can start processes as another user); unset it, or start the server as root",
                sandbox.User);
        }
    }
}
