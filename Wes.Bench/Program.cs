using System.Globalization;
using Wes.Bench;
using Wes.Bench.Baseline;
using Wes.Bench.Scenarios;

// Wes.Bench latency    [--runs 10] [--timeout 300] [--server-dll PATH]
// Wes.Bench throughput [--runs 200] [--concurrency 8] [--seconds 5] [--timeout 300] [--server-dll PATH]
// Wes.Bench scale      [--runs 1000000] [--concurrency 8] [--seconds 5] [--postgres CONN] [--timeout 300] [--server-dll PATH]
// Wes.Bench submit     [--runs 2000] [--rounds 3] [--starts 5] [--concurrency 8] [--seconds 5] [--postgres CONN] [--timeout 300] [--server-dll PATH]
// Wes.Bench scaleout   --postgres CONN [--runs 50] [--burst 300] [--concurrency 8] [--executors 2] [--timeout 300] [--server-dll PATH]
// The bare server the scenarios compare with runs as a child process of this same program.
if (args.Length > 0 && args[0] == BaselineServer.Command)
{
    return await BaselineServer.RunAsync(args[1..]);
}

BenchArguments arguments;
try
{
    arguments = BenchArguments.Parse(args);
}
catch (UsageException ex)
{
    await Console.Error.WriteLineAsync($"{ex.Message} Run with --help for the scenarios and options.");
    return 2;
}

if (arguments.IsHelp)
{
    Console.WriteLine(BenchArguments.Usage);
    return 0;
}

var root = FindRepositoryRoot(Environment.CurrentDirectory);
if (root is null)
{
    await Console.Error.WriteLineAsync($"Run Wes.Bench from inside the repository: no folder at or above {Environment.CurrentDirectory} holds Wes.sln.");
    return 2;
}

using var interrupted = new CancellationTokenSource();
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(arguments.TimeoutSeconds));
using var stop = CancellationTokenSource.CreateLinkedTokenSource(interrupted.Token, timeout.Token);
// Ctrl+C cancels like the timeout does, so the server child is still stopped and its data directory removed.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

const int MaxFailuresShown = 20;
var output = Console.Out;
try
{
    var serverDll = await ServerProcess.ResolveDllAsync(root, arguments.ServerDll, stop.Token);
    await WriteHeaderAsync(output, arguments, root, serverDll, stop.Token);
    var failures = arguments.Scenario switch
    {
        "latency" => await new LatencyScenario(arguments, root, serverDll).RunAsync(output, stop.Token),
        "scaleout" => await new ScaleOutScenario(arguments, serverDll).RunAsync(output, stop.Token),
        "scale" => await new ScaleScenario(arguments, serverDll).RunAsync(output, stop.Token),
        "submit" => await new SubmitScenario(arguments, serverDll).RunAsync(output, stop.Token),
        _ => await new ThroughputScenario(arguments, serverDll).RunAsync(output, stop.Token),
    };
    if (failures.Count == 0)
    {
        return 0;
    }

    output.WriteLine($"**{failures.Count} failure(s):**");
    output.WriteLine();
    // Two hundred identical lines would bury the report; the first few say why, the count says how often.
    foreach (var failure in failures.Take(MaxFailuresShown))
    {
        output.WriteLine("- " + failure.ReplaceLineEndings(" "));
    }

    if (failures.Count > MaxFailuresShown)
    {
        output.WriteLine($"- … and {failures.Count - MaxFailuresShown} more");
    }

    await Console.Error.WriteLineAsync($"{failures.Count} failure(s): not every run or request ended as expected; see the report.");
    return 1;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    var why = interrupted.IsCancellationRequested
        ? "was interrupted (Ctrl+C)"
        : $"did not finish within {arguments.TimeoutSeconds} s (--timeout); raise --timeout or lower --runs";
    await Console.Error.WriteLineAsync($"Aborted: the {arguments.Scenario} scenario {why}.");
    return 1;
}
catch (BenchException ex)
{
    await Console.Error.WriteLineAsync($"Failed: {ex.Message}");
    return 1;
}

static string? FindRepositoryRoot(string start)
{
    for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Wes.sln")))
        {
            return dir.FullName;
        }
    }

    return null;
}

static async Task WriteHeaderAsync(
    TextWriter output, BenchArguments arguments, string root, string serverDll, CancellationToken cancellationToken)
{
    // Quoted as a shell needs it: --postgres values hold ';'. A password in them is not printed.
    var command = Markdown.RedactPasswords(string.Join(' ', arguments.Raw.Select(
        arg => arg.Length == 0 || arg.Any(c => char.IsWhiteSpace(c) || c is ';' or '&' or '|') ? $"'{arg}'" : arg)));
    var settings = arguments.Scenario switch
    {
        "latency" => $"runs={arguments.Runs}, timeout={arguments.TimeoutSeconds} s",
        "scale" => $"runs={arguments.Runs}, concurrency={arguments.Concurrency}, seconds={arguments.Seconds}, " +
            $"database={(arguments.Postgres is null ? "SQLite" : "PostgreSQL")}, timeout={arguments.TimeoutSeconds} s",
        "submit" => $"runs={arguments.Runs} per round, rounds={arguments.Rounds}, starts={arguments.Starts}, concurrency={arguments.Concurrency}, " +
            $"seconds={arguments.Seconds}, database={(arguments.Postgres is null ? "SQLite" : "PostgreSQL")}, timeout={arguments.TimeoutSeconds} s",
        "scaleout" => $"runs={arguments.Runs}, burst={arguments.Burst}, concurrency={arguments.Concurrency}, " +
            $"executors={arguments.Executors}, timeout={arguments.TimeoutSeconds} s",
        _ => $"runs={arguments.Runs}, concurrency={arguments.Concurrency}, seconds={arguments.Seconds}, timeout={arguments.TimeoutSeconds} s",
    };
    var built = File.GetLastWriteTimeUtc(serverDll).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    IReadOnlyList<IReadOnlyList<string>> rows =
    [
        .. await MachineInfo.ReadAsync(cancellationToken),
        ["Command", Markdown.Code($"Wes.Bench {command}")],
        ["Settings", settings],
        ["Server", $"{Markdown.Code("dotnet " + Path.GetRelativePath(root, serverDll))} built {built} UTC, on 127.0.0.1"],
    ];
    output.WriteLine($"## Wes.Bench {arguments.Scenario}");
    output.WriteLine();
    Markdown.Table(output, ["Machine", ""], rows);
}
