namespace Wes.Bench.Scenarios;

internal sealed class SubmitScenario(BenchArguments arguments, string serverDll)
{
    public Task<IReadOnlyList<string>> RunAsync(TextWriter output, CancellationToken cancellationToken) =>
        throw new BenchException($"{arguments.Scenario} {serverDll} {output} {cancellationToken}");
}
