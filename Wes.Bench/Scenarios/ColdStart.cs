namespace Wes.Bench.Scenarios;

/// <summary>
/// Time from starting the server process to its first 200 on GET service-info (asked every 5 ms), each start on a
/// fresh empty data directory, so every start also creates and migrates its database as a first start does.
/// </summary>
internal static class ColdStart
{
    public static async Task<Summary> MeasureAsync(string serverDll, int starts, CancellationToken cancellationToken)
    {
        var times = new List<double>();
        for (var i = 0; i < starts; i++)
        {
            await using var server = await ServerProcess.StartAsync(
                serverDll, new Dictionary<string, string> { ["DEFAULT_WES_PROVIDER"] = "Mock" }, cancellationToken);
            times.Add(server.ReadyAfter.TotalMilliseconds);
        }

        return Summary.Of(times);
    }
}
