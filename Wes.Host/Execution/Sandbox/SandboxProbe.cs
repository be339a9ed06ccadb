using System.ComponentModel;

namespace Wes.Execution.Sandbox;

/// <summary>
/// Starts one sandbox with the configured options around `true`, in a throwaway run folder, and reads bwrap's
/// version: the sandbox counts as available only if that works. Failing hosts are common (bubblewrap not installed, a
/// container that forbids namespaces), and the probe's words say which.
/// </summary>
public static class SandboxProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static SandboxStatus Run(EngineSandbox sandbox)
    {
        var bwrap = sandbox.BwrapPath;
        if (!Path.IsPathFullyQualified(bwrap) || !File.Exists(bwrap))
        {
            return SandboxStatus.Unavailable($"bubblewrap not found ({(Path.IsPathFullyQualified(bwrap) ? bwrap : "no bwrap on PATH")})");
        }

        foreach (var helper in sandbox.User is null ? ["setsid"] : new[] { "setsid", "setpriv" })
        {
            if (Engines.EngineCatalog.FindOnPath(helper) is null)
            {
                return SandboxStatus.Unavailable($"{helper} not found on PATH (apt-get install -y util-linux)");
            }
        }

        var version = RunQuietly([bwrap, "--version"], out _)?.Trim();
        if (version is null || !version.StartsWith("bubblewrap", StringComparison.Ordinal))
        {
            return SandboxStatus.Unavailable($"{bwrap} --version did not answer as bubblewrap");
        }

        if (OperatingSystem.IsWindows())
        {
            return SandboxStatus.Unavailable("bubblewrap needs Linux");
        }

        // A throwaway run in the data directory itself, so the probe also proves that the engine user reaches it.
        var folder = new DirectoryInfo(Path.Combine(sandbox.DataDir, $".sandbox-probe-{Guid.NewGuid():N}"));
        try
        {
            folder.Create();
            var workspace = new RunWorkspace(folder.FullName, "run");
            Directory.CreateDirectory(workspace.Root);
            sandbox.PrepareRunDirectory(workspace);
            var truePath = Engines.EngineCatalog.FindOnPath("true") ?? "/bin/true";
            var command = sandbox.BuildCommand(truePath, [], new SandboxContext(workspace, truePath, []));
            if (RunQuietly(command, out var error) is null)
            {
                return SandboxStatus.Unavailable($"{bwrap} could not start a sandbox: {error}");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SandboxUnavailableException)
        {
            return SandboxStatus.Unavailable($"the sandbox could not be prepared: {ex.Message}");
        }
        finally
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Never created, or a leftover that does no harm.
            }
        }

        return SandboxStatus.Enabled(sandbox.Describe(version));
    }

    /// <summary>Stdout of a command that exited 0 in time, or null with its stderr (or the reason it did not run).</summary>
    private static string? RunQuietly(IReadOnlyList<string> command, out string error)
    {
        try
        {
            // The sandbox's status is a property read under a lock: the probe waits for its programs, as it always has.
            var run = ProgramRun.RunAsync(command[0], command.Skip(1), Timeout, null, CancellationToken.None).GetAwaiter().GetResult();
            error = run.Error.Trim() is { Length: > 0 } text ? text : $"exit code {run.ExitCode}";
            return run.ExitCode == 0 ? run.Output : null;
        }
        catch (TimeoutException)
        {
            error = $"no answer within {Timeout.TotalSeconds:0} seconds";
            return null;
        }
        catch (Win32Exception ex)
        {
            error = ex.Message;
            return null;
        }
    }
}
