using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Wes.Tests.Support;

/// <summary>
/// The real server in memory, on its own SQLite file in its own data directory. Mock by default; pass
/// provider "Local" for real cwltool runs. Several factories may share one data directory to simulate restarts.
/// </summary>
public sealed class WesApplicationFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly bool _ownsDataDir;

    public WesApplicationFactory(
        string provider = "Mock", int workers = 2, string? dataDir = null,
        IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        _ownsDataDir = dataDir is null;
        DataDir = dataDir ?? TempDirectory.Create("wes-test");
        _services = services;
        _settings = new Dictionary<string, string?>
        {
            ["Wes:DataDir"] = DataDir,
            ["Wes:DefaultProvider"] = provider,
            ["Wes:MaxConcurrentRuns"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Wes:PollIntervalSeconds"] = "0.2",
            ["Wes:ShutdownGraceSeconds"] = "0",
            ["Wes:KillGraceSeconds"] = "2",
            ["Wes:Mock:DelayMilliseconds"] = "50",
            // One attempt unless a test is about retries, so a failure shows as it is.
            ["Wes:MaxAttempts"] = "1",
            ["Wes:Retry:BaseDelaySeconds"] = "0.05",
            // Tests poll far faster than a real client; the rate limit has tests of its own.
            ["Wes:Limits:RequestsPerSecond"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string DataDir { get; }
    public string RunsDir => Path.Combine(DataDir, "runs");

    public WesClient CreateWesClient(string basePath = "/ga4gh/wes/v1", string? token = null) => new(CreateClient().WithBearer(token), basePath);

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsDataDir)
        {
            TempDirectory.Delete(DataDir);
        }
    }
}

public static class TempDirectory
{
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind does not make a test wrong.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
