using System.Globalization;
using Microsoft.Playwright;

namespace Wes.Bench.Scenarios;

/// <summary>The dashboard's first render of one caller's runs list, timed in Chromium: cold, then warm (cached files).</summary>
internal sealed record RenderTimes(string Who, double ColdMs, IReadOnlyList<double> WarmMs);

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
            await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            // The token the page would ask for, already in the tab's session storage.
            await context.AddInitScriptAsync($"sessionStorage.setItem('wes.token', '{token}')");
            var page = await context.NewPageAsync();
            var cold = await LoadAsync(page, origin);
            var warm = new List<double>();
            for (var i = 0; i < WarmLoads; i++)
            {
                warm.Add(await LoadAsync(page, origin));
            }

            results.Add(new RenderTimes(who, cold, warm));
        }

        return results;
    }

    private static async Task<double> LoadAsync(IPage page, Uri origin)
    {
        await page.GotoAsync(origin.ToString());
        await page.WaitForFunctionAsync("performance.getEntriesByName('wes:runs-rendered').length > 0");
        return await page.EvaluateAsync<double>("performance.getEntriesByName('wes:runs-rendered')[0].startTime");
    }

    public static void WriteTable(TextWriter output, IReadOnlyList<RenderTimes> renders)
    {
        if (renders.Count == 0)
        {
            return;
        }

        Markdown.Table(output, ["Dashboard first render (Chromium, ms from navigation to the first rows)", "cold", $"warm p50 of {WarmLoads}", "warm max"],
            renders.Select(r => (IReadOnlyList<string>)
            [
                r.Who, Ms(r.ColdMs), Ms(r.WarmMs.Order().ElementAt(r.WarmMs.Count / 2)), Ms(r.WarmMs.Max()),
            ]).ToList());
    }

    private static string Ms(double ms) => ms.ToString("F0", CultureInfo.InvariantCulture);
}
