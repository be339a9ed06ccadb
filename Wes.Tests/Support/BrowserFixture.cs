using Microsoft.Playwright;

namespace Wes.Tests.Support;

/// <summary>The browser tests share one Chromium and run one at a time: a browser is heavy and they poll live pages.</summary>
[CollectionDefinition("Browser", DisableParallelization = true)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>;

/// <summary>
/// Debian's Chromium driven by Playwright (its own browser download is not used), and a real Wes.Host process with the
/// Mock provider and authentication off on a loopback port, shared by the tests that need no other server.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;
    public HostProcess Server { get; private set; } = null!;
    public string DataDir { get; } = TempDirectory.Create("wes-browser");
    public string RunsDir => Path.Combine(DataDir, "runs");

    public async Task InitializeAsync()
    {
        Server = await HostProcess.StartAsync(MockServer(DataDir));
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
        Server.Dispose();
        TempDirectory.Delete(DataDir);
    }

    public static Dictionary<string, string> MockServer(string dataDir) => new()
    {
        ["WES_DATA_DIR"] = dataDir,
        ["DEFAULT_WES_PROVIDER"] = "Mock",
        ["Wes__Mock__DelayMilliseconds"] = "200",
    };

    public WesClient Client(HostProcess? server = null, string? token = null) =>
        new(new HttpClient { BaseAddress = new Uri((server ?? Server).BaseUrl!) }.WithBearer(token), "/ga4gh/wes/v1");

    /// <summary>A fresh context per test (its own session storage), at a desktop size unless told otherwise.</summary>
    public async Task<IPage> NewPageAsync(HostProcess? server = null, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = (server ?? Server).BaseUrl, ViewportSize = new() { Width = width, Height = height }, AcceptDownloads = true,
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        // A script error is a failure even when the page still looks right.
        page.PageError += (_, error) => PageErrors.Add(error);
        return page;
    }

    public List<string> PageErrors { get; } = [];

    /// <summary>
    /// With WES_DASHBOARD_SCREENSHOTS set to a folder, saves the page there as name.png (the README's images are made
    /// so); otherwise does nothing.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("WES_DASHBOARD_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        }
    }
}
