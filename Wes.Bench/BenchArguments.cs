namespace Wes.Bench;

/// <summary>The command line, parsed by hand: one scenario name and a few `--name value` options.</summary>
internal sealed record BenchArguments(
    string Scenario, int Runs, int Concurrency, int Seconds, int TimeoutSeconds, string? ServerDll, IReadOnlyList<string> Raw)
{
    /// <summary>scaleout: executor processes beside the one API process.</summary>
    public int Executors { get; init; }

    /// <summary>scaleout: runs submitted at once after the sequential ones.</summary>
    public int Burst { get; init; }

    /// <summary>submit: end-to-end rounds, to see whether memory grows from one to the next.</summary>
    public int Rounds { get; init; }

    /// <summary>submit: how many times the server is started cold on an empty database.</summary>
    public int Starts { get; init; }

    /// <summary>throughput: bytes of the one attachment each submission carries (multipart); 0 sends a JSON body.</summary>
    public int AttachmentBytes { get; init; }

    /// <summary>scaleout (required), scale and submit (optional): connection string to an existing PostgreSQL server's admin database (--postgres or WES_BENCH_POSTGRES).</summary>
    public string? Postgres { get; init; }

    /// <summary>scale only: a Chromium executable to time the dashboard's first render with (--browser).</summary>
    public string? Browser { get; init; }

    public const string Usage = """
        Usage: dotnet run --project Wes.Bench -c Release -- <scenario> [options]

        Scenarios:
          latency      Local provider + cwltool: submit examples/hello sequentially, time submit→RUNNING and
                       submit→COMPLETE, and compare with running bare cwltool on the same files.
          throughput   Mock provider (no engine): concurrent submissions, time until all are COMPLETE, then a
                       fixed-duration load on GET /runs?page_size=50 and GET /service-info.
          scale        --runs finished runs seeded through the store before the server starts; then fixed-duration
                       loads on service-info, run status, and the first, a middle and the last GET /runs page (all
                       runs and one owner's), each against a bare JSON GET baseline; server RSS before and after.
          submit       Mock provider, empty database: cold start, pickup latency from the run history, --rounds
                       end-to-end rounds of --runs runs, then JSON POST /runs against a bare SQLite-insert endpoint,
                       multipart with a 10 KB attachment, and run status against a bare JSON GET; RSS per round.
          scaleout     Mock provider on PostgreSQL: one `api` process and --executors `executor` processes on a fresh
                       database; sequential submit→RUNNING wake-up latency, then a burst until all are COMPLETE.

        Options:
          --runs N           runs to submit (latency: 10, throughput: 200, scaleout: 50 one at a time, submit: 2000
                             per round); scale: runs to seed (default 1000000)
          --concurrency N    concurrent submitters, and the connections of each read load (default 8)
          --seconds N        throughput, scale, submit: duration of each load (default 5)
          --rounds N         submit only: end-to-end rounds (default 3)
          --starts N         submit only: cold starts to time (default 5)
          --attachment-bytes N  throughput only: submit multipart with one attachment of N bytes in a subfolder
                             (default 0: a JSON body)
          --executors N      scaleout only: executor processes (default 2)
          --burst N          scaleout only: runs submitted concurrently after the sequential ones (default 300)
          --postgres CONN    scaleout (required), scale and submit (optional): connection string to an existing
                             PostgreSQL server's admin database, e.g.
                             "Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres"
                             (scaleout's default: env WES_BENCH_POSTGRES); a wes_bench_<guid> database is created and dropped
          --browser PATH     scale only: also time the dashboard's first render in this Chromium (e.g. /usr/bin/chromium)
          --timeout N        abort the scenario after N seconds (default 300; scale: 1800)
          --server-dll PATH  Wes.Host.dll to start (default Wes.Host/bin/<Configuration>/net10.0/Wes.Host.dll,
                             built first if missing)
          -h, --help         show this text

        The Markdown report goes to stdout, progress to stderr. Exit code 1 if any run or request did not end as
        expected or the timeout passed, 2 for a usage error.
        """;

    private static readonly string[] Scenarios = ["latency", "throughput", "scale", "submit", "scaleout"];
    private static readonly string[] Options =
        ["--runs", "--concurrency", "--seconds", "--timeout", "--server-dll", "--executors", "--burst", "--postgres", "--rounds", "--starts", "--attachment-bytes", "--browser"];

    private static readonly string[] CommonOptions = ["--runs", "--timeout", "--server-dll"];

    // The options each scenario reads beyond the common ones.
    private static readonly Dictionary<string, string[]> ScenarioOptions = new(StringComparer.Ordinal)
    {
        ["latency"] = [],
        ["throughput"] = ["--concurrency", "--seconds", "--attachment-bytes"],
        ["scale"] = ["--concurrency", "--seconds", "--postgres", "--browser"],
        ["submit"] = ["--concurrency", "--seconds", "--postgres", "--rounds", "--starts"],
        ["scaleout"] = ["--concurrency", "--executors", "--burst", "--postgres"],
    };

    public bool IsHelp => Scenario == "help";

    /// <exception cref="UsageException">The arguments do not form a valid command; the message says why.</exception>
    public static BenchArguments Parse(IReadOnlyList<string> args)
    {
        string? scenario = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return new BenchArguments("help", 0, 0, 0, 0, null, args);
            }

            if (!arg.StartsWith('-'))
            {
                scenario = scenario is null ? arg : throw new UsageException($"Unexpected argument '{arg}'; give one scenario.");
                continue;
            }

            if (!Options.Contains(arg))
            {
                throw new UsageException($"Unknown option '{arg}'.");
            }

            if (i + 1 >= args.Count)
            {
                throw new UsageException($"{arg} needs a value.");
            }

            values[arg] = args[++i];
        }

        if (scenario is null || !Scenarios.Contains(scenario))
        {
            throw new UsageException(scenario is null
                ? "Name a scenario: latency, throughput, scale, submit or scaleout."
                : $"Unknown scenario '{scenario}'; use latency, throughput, scale, submit or scaleout.");
        }

        // An option that the scenario would silently ignore is more likely a mistake than a wish.
        var own = ScenarioOptions[scenario];
        if (values.Keys.FirstOrDefault(name => !CommonOptions.Contains(name) && !own.Contains(name)) is { } ignored)
        {
            var users = ScenarioOptions.Where(pair => pair.Value.Contains(ignored)).Select(pair => pair.Key).ToList();
            throw new UsageException($"{ignored} applies only to the {string.Join(" and ", users)} scenario{(users.Count > 1 ? "s" : "")}.");
        }

        // Only scaleout cannot run without PostgreSQL; the others use it only when asked on the command line.
        var postgres = values.GetValueOrDefault("--postgres") ??
            (scenario == "scaleout" ? Environment.GetEnvironmentVariable("WES_BENCH_POSTGRES") : null);
        if (scenario == "scaleout" && string.IsNullOrWhiteSpace(postgres))
        {
            throw new UsageException(
                "The scaleout scenario needs a PostgreSQL server: give --postgres \"Host=...;Port=...;Username=...;Database=postgres\" or set WES_BENCH_POSTGRES.");
        }

        return new BenchArguments(
            scenario,
            Number(values, "--runs", scenario switch { "latency" => 10, "scaleout" => 50, "scale" => 1_000_000, "submit" => 2000, _ => 200 }, max: 10_000_000),
            Number(values, "--concurrency", 8, max: 1024),
            Number(values, "--seconds", 5, max: 3600),
            Number(values, "--timeout", scenario == "scale" ? 1800 : 300, max: 86_400),
            values.TryGetValue("--server-dll", out var dll) ? Path.GetFullPath(dll) : null,
            args)
        {
            Executors = Number(values, "--executors", 2, max: 64),
            Burst = Number(values, "--burst", 300, max: 1_000_000),
            Rounds = Number(values, "--rounds", 3, max: 1000),
            Starts = Number(values, "--starts", 5, max: 100),
            AttachmentBytes = Number(values, "--attachment-bytes", 0, max: 10_000_000),
            Postgres = string.IsNullOrWhiteSpace(postgres) ? null : postgres,
            Browser = values.TryGetValue("--browser", out var browser) ? browser : null,
        };
    }

    private static int Number(Dictionary<string, string> values, string name, int fallback, int max)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, out var value) && value >= 1 && value <= max
            ? value
            : throw new UsageException($"{name} must be a whole number from 1 to {max}; got '{text}'.");
    }
}

/// <summary>A command-line mistake: printed with the usage text, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The benchmark could not run or a run ended unexpectedly: printed as the reason, exit code 1.</summary>
internal sealed class BenchException(string message) : Exception(message);
