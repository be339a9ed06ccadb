using System.CommandLine;
using Spectre.Console;
using Wes.Cli.Api;

namespace Wes.Cli;

/// <summary>What every verb shares: the writers, whether they are a terminal, and the global options.</summary>
public sealed class CliContext
{
    public const string DefaultUrl = "http://localhost:5000/ga4gh/wes/v1";
    private readonly HttpMessageHandler? _handler;

    public CliContext(TextWriter output, TextWriter error, bool isTerminal, HttpMessageHandler? handler = null)
    {
        Output = output;
        Error = error;
        IsTerminal = isTerminal;
        _handler = handler;
        Console = AnsiConsole.Create(isTerminal
            ? new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }
            : new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
            });
        if (!isTerminal)
        {
            // Redirected output has no width; wide enough that a run id and its times stay on one line.
            Console.Profile.Width = 200;
        }
    }

    public TextWriter Output { get; }
    public TextWriter Error { get; }
    public bool IsTerminal { get; }
    public IAnsiConsole Console { get; }

    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"WES API base URL (default: $WES_API_URL, else {DefaultUrl})", Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token") { Description = "Bearer token (default: $WES_TOKEN)", Recursive = true };

    public Option<bool> Json { get; } = new("--json") { Description = "Print the server's JSON instead of text", Recursive = true };

    public Option<double> Interval { get; } = new("--interval")
    {
        Description = "Seconds between status checks while waiting", DefaultValueFactory = _ => 2,
    };

    public WesApiClient CreateClient(ParseResult parse)
    {
        var text = parse.GetValue(Url) ?? Environment.GetEnvironmentVariable("WES_API_URL");
        text = string.IsNullOrWhiteSpace(text) ? DefaultUrl : text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new CliUsageException($"--url '{text}' is not an http(s) URL.");
        }

        var token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable("WES_TOKEN");
        return new WesApiClient(url, token, _handler);
    }

    public TimeSpan PollInterval(ParseResult parse)
    {
        var seconds = parse.GetValue(Interval);
        return seconds is > 0 and <= 3600 ? TimeSpan.FromSeconds(seconds) : throw new CliUsageException("--interval must be between 0 and 3600 seconds.");
    }

    /// <summary>A table as text: boxed on a terminal, plain aligned columns when redirected.</summary>
    public void WriteTable(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var table = new Table().Border(IsTerminal ? TableBorder.Rounded : TableBorder.None);
        // Ids and times stay whole; only the last column (tags, links) wraps on a narrow terminal.
        foreach (var (header, index) in headers.Select((h, i) => (h, i)))
        {
            var column = new TableColumn(new Text(header));
            table.AddColumn(index < headers.Count - 1 ? column.NoWrap() : column);
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell ?? "")).ToArray());
        }

        Console.Write(table);
    }
}
