using System.Text.RegularExpressions;
using Wes.Tests.Support;

namespace Wes.Tests.Architecture;

/// <summary>
/// The rules that keep the layers apart, checked on the source: the run model knows nothing of HTTP or the database;
/// the API reaches the executor only through the store; the executor knows nothing of HTTP.
/// </summary>
public sealed partial class LayeringTests
{
    private static readonly string HostRoot = Path.Combine(Path.GetDirectoryName(Examples.Root)!, "Wes.Host");

    /// <summary>Types that belong to the executor's inside: the API must not call them, it changes the store instead.</summary>
    private static readonly string[] ExecutorInternals =
    [
        "RunExecutor", "ExecutorService", "RunCancellations", "RunStopSwitch", "RunSignal", "LeaseKeeper", "Reconciler",
        "EngineProcess", "NativeProcess", "PostgresWakeupListener",
    ];

    // Comments may name anything; only code counts.
    [GeneratedRegex(@"^\s*//.*$", RegexOptions.Multiline)]
    private static partial Regex Comments();

    private static IEnumerable<(string File, string Code)> Sources(string folder) =>
        Directory.EnumerateFiles(Path.Combine(HostRoot, folder), "*.cs", SearchOption.AllDirectories)
            .Select(file => (Path.GetRelativePath(HostRoot, file), Comments().Replace(File.ReadAllText(file), "")));

    private static void AssertNoneMention(string folder, IEnumerable<string> forbidden)
    {
        var words = forbidden.ToList();
        var offenders = Sources(folder)
            .SelectMany(source => words.Where(word => Regex.IsMatch(source.Code, $@"\b{Regex.Escape(word)}\b")).Select(word => $"{source.File}: {word}"))
            .ToList();
        Assert.True(offenders.Count == 0, "layering broken:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void RunModel_UsesNoAspNetEntityFrameworkOrStorage() =>
        AssertNoneMention("Runs", ["Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "Dapper", "HttpContext", "DbContext",
            "Wes.Persistence", "Wes.Api", "Wes.Execution", "Wes.Providers"]);

    [Fact]
    public void Api_DoesNotReachIntoTheExecutor() => AssertNoneMention("Api", ExecutorInternals);

    [Fact]
    public void Execution_KnowsNothingOfTheHttpLayer() =>
        AssertNoneMention("Execution", ["Microsoft.AspNetCore", "HttpContext", "HttpRequest", "IResult", "Wes.Api"]);

    [Fact]
    public void TheRulesSeeTheSource()
    {
        // A rule checked against no files would pass for ever.
        Assert.Contains(Sources("Execution"), s => s.Code.Contains("class RunExecutor", StringComparison.Ordinal));
        Assert.Contains(Sources("Api"), s => s.Code.Contains("class RunEndpoints", StringComparison.Ordinal));
        Assert.Contains(Sources("Runs"), s => s.Code.Contains("class RunDecisions", StringComparison.Ordinal));
    }
}
