using System.Text.Json;
using Wes.Cli.Api;

namespace Wes.Cli;

/// <summary>Every exit code of the client, and which failure gives which.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>A run the command waited for ended EXECUTOR_ERROR, SYSTEM_ERROR, CANCELED or PREEMPTED.</summary>
    public const int RunFailed = 1;
    /// <summary>The command line or a local file it names is wrong.</summary>
    public const int Usage = 2;
    /// <summary>The server could not be reached or answered an error.</summary>
    public const int Server = 3;
    /// <summary>Ctrl+C, as shells report SIGINT.</summary>
    public const int Interrupted = 130;

    private static readonly HashSet<string> TerminalStates = ["COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED", "PREEMPTED"];

    public static bool IsTerminal(string? state) => state is not null && TerminalStates.Contains(state);

    public static int ForFinalState(string? state) => state == "COMPLETE" ? Success : RunFailed;

    /// <summary>The exit code and the one line printed for a failure that reached the top.</summary>
    public static (int Code, string Message) ForException(Exception exception) => exception switch
    {
        CliUsageException usage => (Usage, usage.Message),
        WesApiException api => (Server, api.Message),
        OperationCanceledException => (Interrupted, "interrupted"),
        JsonException json => (Usage, "invalid JSON: " + json.Message),
        IOException or UnauthorizedAccessException => (Usage, exception.Message),
        _ => (Server, $"{exception.GetType().Name}: {exception.Message}"),
    };
}

/// <summary>The command line asks for something that cannot be done as written (a missing file, a bad key=value).</summary>
public sealed class CliUsageException(string message) : Exception(message);
