using System.Diagnostics;
using System.Text;

namespace Wes.Tests.Support;

/// <summary>The server as a real OS process (`dotnet Wes.Host.dll`), for start-up, signal and crash tests.</summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private HostProcess(Process process, string? baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string? BaseUrl { get; }
    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string HostDll { get; } = FindHostDll();

    /// <summary>Starts the server on a free loopback port and waits until it answers.</summary>
    public static Task<HostProcess> StartAsync(IDictionary<string, string> environment, params string[] arguments) =>
        StartAtAsync($"http://127.0.0.1:{LocalHttpServer.FreePort()}", environment, arguments);

    /// <summary>Starts the server on the given loopback base URL (the same one again after a restart) and waits until it answers.</summary>
    public static async Task<HostProcess> StartAtAsync(string baseUrl, IDictionary<string, string> environment, params string[] arguments)
    {
        var host = Start(environment, [.. arguments, "--urls", baseUrl], baseUrl);
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (host._process.HasExited)
            {
                throw new InvalidOperationException($"Wes.Host exited with {host._process.ExitCode}:\n{host.Output}");
            }

            try
            {
                using var response = await http.GetAsync(baseUrl + "/ga4gh/wes/v1/service-info");
                // With authentication on, a 401 is the server answering too.
                if (response.IsSuccessStatusCode || response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
                {
                    return host;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Wes.Host did not answer:\n{host.Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Starts an executor-only process (no HTTP port) and waits until its pool has started.</summary>
    public static async Task<HostProcess> StartExecutorAsync(IDictionary<string, string> environment)
    {
        var host = Start(environment, ["executor"], null);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!host.Output.Contains("Executor pool started", StringComparison.Ordinal))
        {
            if (host._process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Wes.Host executor did not start:\n{host.Output}");
            }

            await Task.Delay(50);
        }

        return host;
    }

    /// <summary>Runs a command of the executable to its end and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToEndAsync(IDictionary<string, string> environment, params string[] arguments)
    {
        using var host = Start(environment, arguments, null);
        var exit = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, host.Output);
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        // Idempotent: a test may stop a server early that its fixture stops again.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static HostProcess Start(IDictionary<string, string> environment, string[] arguments, string? baseUrl)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(HostDll)!,
        };
        start.ArgumentList.Add(HostDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        // Tests poll far faster than a real client; the rate limit has tests of its own.
        start.Environment["WES_RATE_LIMIT"] = "0";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new HostProcess(Process.Start(start)!, baseUrl);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static string FindHostDll()
    {
        // The test binaries sit in Wes.Tests/bin/<Configuration>/net10.0; the server's own build is beside them.
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testDir.Parent!.Name;
        var repo = Path.GetDirectoryName(Examples.Root)!;
        var own = Path.Combine(repo, "Wes.Host", "bin", configuration, testDir.Name, "Wes.Host.dll");
        return File.Exists(own) ? own : Path.Combine(AppContext.BaseDirectory, "Wes.Host.dll");
    }
}
