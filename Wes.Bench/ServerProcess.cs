using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Wes.Bench;

/// <summary>
/// One Wes.Host child process: with an HTTP port on a free loopback port, or an executor without one. It gets a fresh
/// data directory unless the settings name a WES_DATA_DIR (processes sharing one database share that directory too).
/// Disposing stops it with SIGTERM, as a service manager would, and deletes the directory it created.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private const int TailLines = 40;
    private const string ExecutorReadyLine = "Executor pool started with";
    private static readonly TimeSpan StartupLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(30);

    private readonly Process process;
    private readonly ServerRole role;
    private readonly DirectoryInfo? ownDataDir;
    private readonly Queue<string> tail = new();
    private readonly Uri? apiBase;
    private volatile bool sawReadyLine;

    private ServerProcess(Process process, ServerRole role, DirectoryInfo? ownDataDir, Uri? apiBase, IReadOnlyList<string> settings)
    {
        this.process = process;
        this.role = role;
        this.ownDataDir = ownDataDir;
        this.apiBase = apiBase;
        Settings = settings;
        // The server's log is kept only as a short tail for error messages; stdout belongs to the report.
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Base of the WES API, ending in a slash so that "runs" and "service-info" resolve under it.</summary>
    public Uri ApiBase => apiBase ?? throw new InvalidOperationException("An executor process has no HTTP port.");

    /// <summary>The child's process id, for reading its memory from /proc.</summary>
    public int ProcessId => process.Id;

    /// <summary>From starting the process to its first 200 on GET service-info (API roles only).</summary>
    public TimeSpan ReadyAfter { get; private set; }

    /// <summary>The settings the server ran with, as NAME=value, for the report (the temporary WES_DATA_DIR left out).</summary>
    public IReadOnlyList<string> Settings { get; }

    /// <summary>The Wes.Host.dll to start: the one given, or this tool's configuration's build of the current sources.</summary>
    public static async Task<string> ResolveDllAsync(string repositoryRoot, string? explicitDll, CancellationToken cancellationToken)
    {
        if (explicitDll is not null)
        {
            return File.Exists(explicitDll) ? explicitDll : throw new BenchException($"--server-dll {explicitDll} does not exist.");
        }

        // The same configuration as this tool, so a Release benchmark measures a Release server.
        var configuration = typeof(ServerProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var project = Path.Combine(repositoryRoot, "Wes.Host");
        var dll = Path.Combine(project, "bin", configuration, "net10.0", "Wes.Host.dll");
        // Always (incrementally) built, so the numbers are those of the code in the working tree.
        await Console.Error.WriteLineAsync($"Building Wes.Host ({configuration}) ...");
        var build = await ChildProcess.RunAsync("dotnet", ["build", project, "-c", configuration, "--nologo"], repositoryRoot, cancellationToken);
        if (build.ExitCode != 0 || !File.Exists(dll))
        {
            var log = string.Join('\n', (build.Stdout + build.Stderr).Split('\n').TakeLast(30));
            throw new BenchException($"`dotnet build Wes.Host -c {configuration}` failed with exit code {build.ExitCode}:\n{log}");
        }

        return dll;
    }

    /// <summary>The API and an executor pool in one process, as `dotnet Wes.Host.dll` runs by default.</summary>
    public static Task<ServerProcess> StartAsync(
        string serverDll, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) =>
        StartAsync(serverDll, ServerRole.Serve, settings, cancellationToken);

    /// <summary>Starts one role and waits until it is ready: the API answers GET service-info, an executor logs its pool start.</summary>
    public static Task<ServerProcess> StartAsync(
        string serverDll, ServerRole role, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) =>
        StartAsync(serverDll, role, settings, null, cancellationToken);

    /// <summary>As above, asking service-info with <paramref name="bearerToken"/>, as a server with authentication on requires.</summary>
    public static async Task<ServerProcess> StartAsync(
        string serverDll, ServerRole role, IReadOnlyDictionary<string, string> settings, string? bearerToken, CancellationToken cancellationToken)
    {
        var ownDataDir = settings.ContainsKey("WES_DATA_DIR") ? null : Directory.CreateTempSubdirectory("wes-bench-");
        var dataDir = ownDataDir?.FullName ?? settings["WES_DATA_DIR"];
        var url = role == ServerRole.Executor ? null : $"http://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { serverDll },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        if (role != ServerRole.Serve)
        {
            start.ArgumentList.Add(role == ServerRole.Api ? "api" : "executor");
        }

        if (url is not null)
        {
            // "--urls=URL", not "--urls URL": Wes.Host takes its first argument without '-' or '=' as its command name.
            start.ArgumentList.Add("--urls=" + url);
        }

        // A WES_DATABASE or Wes__ setting inherited from the caller's shell would make results depend on who ran this.
        foreach (var name in start.Environment.Keys.Where(IsServerSetting).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["WES_DATA_DIR"] = dataDir;
        start.Environment["WORKFLOW_POLL_INTERVAL"] = "10";
        // The benchmarks measure the server, not its guards: one client polling in a loop would hit the rate limit,
        // and a large --runs would hit the per-user queue limit.
        start.Environment["WES_RATE_LIMIT"] = "0";
        start.Environment["WES_MAX_QUEUED_PER_USER"] = "1000000";
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        Process process;
        var started = Stopwatch.GetTimestamp();
        try
        {
            process = Process.Start(start) ?? throw new BenchException("Could not start dotnet.");
        }
        catch (Win32Exception ex)
        {
            ownDataDir?.Delete(recursive: true);
            throw new BenchException($"Could not start `dotnet {serverDll}`: {ex.Message}");
        }

        var shown = start.Environment
            .Where(pair => pair.Key != "WES_DATA_DIR" && (IsServerSetting(pair.Key) || AffectsServer(pair.Key)))
            .Select(pair => $"{pair.Key}={Markdown.RedactPasswords(pair.Value ?? "")}")
            .Order(StringComparer.Ordinal)
            .ToList();
        var apiBase = url is null ? null : new Uri(url + "/ga4gh/wes/v1/");
        var server = new ServerProcess(process, role, ownDataDir, apiBase, shown);
        try
        {
            var name = role == ServerRole.Serve ? "Wes.Host" : $"Wes.Host {start.ArgumentList[1]}";
            if (apiBase is null)
            {
                await server.WaitForReadyLineAsync(cancellationToken);
                await Console.Error.WriteLineAsync($"{name} (pid {process.Id}) started its pool after {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s.");
            }
            else
            {
                await server.WaitUntilReadyAsync(bearerToken, cancellationToken);
                server.ReadyAfter = Stopwatch.GetElapsedTime(started);
                await Console.Error.WriteLineAsync($"{name} (pid {process.Id}) answered on {url} after {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s.");
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await StopAsync();
        }

        process.Dispose();
        try
        {
            ownDataDir?.Delete(recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"warning: could not delete {ownDataDir?.FullName}: {ex.Message}");
        }
    }

    /// <summary>An executor has no port to ask; it is ready once it logs that its worker pool has started.</summary>
    private async Task WaitForReadyLineAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (!sawReadyLine)
        {
            if (process.HasExited)
            {
                throw new BenchException($"Wes.Host executor exited with code {process.ExitCode} before its pool started. Its last output:\n{Tail()}");
            }

            if (Stopwatch.GetElapsedTime(started) > StartupLimit)
            {
                throw new BenchException(
                    $"Wes.Host executor did not log \"{ExecutorReadyLine} …\" within {StartupLimit.TotalSeconds} s. Its last output:\n{Tail()}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private async Task WaitUntilReadyAsync(string? bearerToken, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(StartupLimit);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        if (bearerToken is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearerToken);
        }

        var serviceInfo = new Uri(ApiBase, "service-info");
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    throw new BenchException($"Wes.Host exited with code {process.ExitCode} before it answered. Its last output:\n{Tail()}");
                }

                try
                {
                    using var response = await http.GetAsync(serviceInfo, limit.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
                {
                    // One slow answer during start-up; the overall limit still applies.
                }

                // Every 5 ms, so the time to the first answer (cold start) is known to within that.
                await Task.Delay(5, limit.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchException(
                $"Wes.Host did not answer GET {serviceInfo} with 200 within {StartupLimit.TotalSeconds} s. Its last output:\n{Tail()}");
        }
    }

    private async Task StopAsync()
    {
        if (!await ChildProcess.TerminateAsync(process, StopLimit))
        {
            await Console.Error.WriteLineAsync($"Wes.Host did not stop within {StopLimit.TotalSeconds} s of SIGTERM; killed it.");
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (role == ServerRole.Executor && line.Contains(ExecutorReadyLine, StringComparison.Ordinal))
        {
            sawReadyLine = true;
        }

        lock (tail)
        {
            tail.Enqueue(line);
            if (tail.Count > TailLines)
            {
                tail.Dequeue();
            }
        }
    }

    private string Tail()
    {
        lock (tail)
        {
            return string.Join('\n', tail);
        }
    }

    private static bool IsServerSetting(string name) =>
        name.StartsWith("WES_", StringComparison.OrdinalIgnoreCase) ||
        name.StartsWith("Wes__", StringComparison.OrdinalIgnoreCase) ||
        name is "DEFAULT_WES_PROVIDER" or "WORKFLOW_POLL_INTERVAL";

    /// <summary>Inherited variables that change what is measured (log levels cost real time per request), so they are reported.</summary>
    private static bool AffectsServer(string name) =>
        name.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase) ||
        name is "ASPNETCORE_ENVIRONMENT" or "DOTNET_ENVIRONMENT" or "DOTNET_gcServer" or "DOTNET_TieredPGO";

    /// <summary>A port the OS just handed out; another process could take it before the server binds, which start-up reports.</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
