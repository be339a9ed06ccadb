using System.ComponentModel;
using System.Diagnostics;
using System.Net;

namespace Wes.Bench.Baseline;

/// <summary>
/// The baseline server as a child process of its own (this tool run with <see cref="BaselineServer.Command"/>) on a
/// free loopback port, so it is measured exactly as Wes.Host is: another process, reached over TCP.
/// </summary>
internal sealed class BaselineProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartupLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(10);

    private readonly Process process;
    private readonly DirectoryInfo dataDir;

    private BaselineProcess(Process process, DirectoryInfo dataDir, Uri baseAddress)
    {
        this.process = process;
        this.dataDir = dataDir;
        BaseAddress = baseAddress;
        // Its log is not needed, but a pipe nobody reads would block it once full.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }

    public int ProcessId => process.Id;

    public static async Task<BaselineProcess> StartAsync(CancellationToken cancellationToken)
    {
        var dataDir = Directory.CreateTempSubdirectory("wes-bench-baseline-");
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(BaselineServer).Assembly.Location, BaselineServer.Command, "--urls=" + url },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir.FullName,
        };
        start.Environment[BaselineServer.DatabaseVariable] = Path.Combine(dataDir.FullName, "baseline.db");
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new BenchException("Could not start dotnet.");
        }
        catch (Win32Exception ex)
        {
            dataDir.Delete(recursive: true);
            throw new BenchException($"Could not start the baseline server: {ex.Message}");
        }

        var baseline = new BaselineProcess(process, dataDir, new Uri(url + "/"));
        try
        {
            await baseline.WaitUntilReadyAsync(cancellationToken);
            await Console.Error.WriteLineAsync($"Baseline server (pid {process.Id}) answered on {url}.");
            return baseline;
        }
        catch
        {
            await baseline.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await ChildProcess.TerminateAsync(process, StopLimit);
        }

        process.Dispose();
        try
        {
            dataDir.Delete(recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"warning: could not delete {dataDir.FullName}: {ex.Message}");
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (process.HasExited)
            {
                throw new BenchException($"The baseline server exited with code {process.ExitCode} before it answered.");
            }

            if (Stopwatch.GetElapsedTime(started) > StartupLimit)
            {
                throw new BenchException($"The baseline server did not answer GET /bare within {StartupLimit.TotalSeconds} s.");
            }

            try
            {
                using var response = await http.GetAsync("bare", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(20, cancellationToken);
        }
    }
}
