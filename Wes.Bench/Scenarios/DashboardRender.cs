using System.Globalization;
using Microsoft.Playwright;

namespace Wes.Bench.Scenarios;

/// <summary>The dashboard's first render of one caller's runs list, timed in Chromium: cold, then warm (cached files).</summary>
internal sealed record RenderTimes(string Who, RenderTime Cold, IReadOnlyList<RenderTime> Warm);

/// <summary>Milliseconds from navigation start: the HTML received, the runs request sent and answered, the rows drawn.</summary>
internal sealed record RenderTime(double Html, double ApiSent, double ApiAnswered, double Rendered);

/// <summary>
/// Opens the runs list as each caller and reads the page's own mark of its first rows on screen, in milliseconds since
/// navigation started: the HTML, its styles and scripts, and the first GET /dashboard/runs, as a user waits for them.
/// </summary>
internal static class DashboardRender
{
    private const int WarmLoads = 10;

    public static async Task<IReadOnlyList<RenderTimes>> MeasureAsync(
        string browserPath, Uri origin, IReadOnlyList<(string Who, string Token)> callers, CancellationToken cancellationToken)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = browserPath, Headless = true, Args = ["--no-sandbox"] });
        var results = new List<RenderTimes>();
        foreach (var (who, token) in callers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Console.Error.WriteLineAsync($"Dashboard first render as {who} ...");
            // The waits below are scripts of Playwright's own, which the page's Content-Security-Policy would refuse.
            await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 }, BypassCSP = true });
            // The token the page would ask for, already in the tab's session storage (the key is TOKEN_KEY in wwwroot/js/api.js).
            await context.AddInitScriptAsync($"sessionStorage.setItem('wes.token', '{token}')");
            var page = await context.NewPageAsync();
            var cold = await LoadAsync(page, origin);
            var warm = new List<RenderTime>();
            for (var i = 0; i < WarmLoads; i++)
            {
                warm.Add(await LoadAsync(page, origin));
            }

            results.Add(new RenderTimes(who, cold, warm));
        }

        return results;
    }

    private static async Task<RenderTime> LoadAsync(IPage page, Uri origin)
    {
        await page.GotoAsync(origin.ToString());
        await page.WaitForFunctionAsync("performance.getEntriesByName('wes:runs-rendered').length > 0");
        var times = await page.EvaluateAsync<double[]>("""
            (() => {
              const api = performance.getEntriesByType('resource').find(e => e.name.includes('/dashboard/runs'));
              return [performance.getEntriesByType('navigation')[0].responseEnd, api.startTime, api.responseEnd,
                performance.getEntriesByName('wes:runs-rendered')[0].startTime];
            })()
            """);
        return new RenderTime(times[0], times[1], times[2], times[3]);
    }

    public static void WriteTable(TextWriter output, IReadOnlyList<RenderTimes> renders)
    {
        if (renders.Count == 0)
        {
            return;
        }

        Markdown.Table(output,
            ["Dashboard first render (Chromium, ms from navigation start)", "HTML received", "runs request sent", "runs answered", "rows drawn"],
            renders.SelectMany(r => (IReadOnlyList<string>[])
            [
                [$"{r.Who}, cold", .. Columns(r.Cold)],
                [$"{r.Who}, warm (median of {WarmLoads} by rows drawn)", .. Median(r.Warm)],
                [$"{r.Who}, warm (slowest of {WarmLoads})", .. Slowest(r.Warm)],
            ]).ToList());
        output.WriteLine("Cold: the first load in a new browser context (nothing cached); warm: reloads, which take the page's files from the " +
            "browser's cache (their path changes with each build). The rows are drawn after the first GET /dashboard/runs answers.");
        output.WriteLine();

        static IEnumerable<string> Median(IReadOnlyList<RenderTime> times) => Columns(times.OrderBy(t => t.Rendered).ElementAt(times.Count / 2));
        static IEnumerable<string> Slowest(IReadOnlyList<RenderTime> times) => Columns(times.MaxBy(t => t.Rendered)!);
        static IEnumerable<string> Columns(RenderTime t) => [Ms(t.Html), Ms(t.ApiSent), Ms(t.ApiAnswered), Ms(t.Rendered)];
    }

    // Whole milliseconds, unlike Markdown.Ms: a page load varies by far more than a tenth between loads.
    private static string Ms(double ms) => ms.ToString("F0", CultureInfo.InvariantCulture);
}
