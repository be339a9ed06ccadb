using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Wes.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Wes.Tests.Dashboard;

/// <summary>axe-core's WCAG 2 A and AA rules (contrast, names, labels, landmarks) on every page, in both colour schemes.</summary>
[Collection("Browser")]
public sealed class DashboardAccessibilityTests
{
    private readonly BrowserFixture _browser;

    public DashboardAccessibilityTests(BrowserFixture browser)
    {
        _browser = browser;
        SetDefaultExpectTimeout(15_000);
    }

    [Fact]
    public async Task EveryPage_PassesTheWcagAaRulesInLightAndDarkSchemes()
    {
        using var client = _browser.Client();
        var runId = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"project": "a11y"}"""));
        await client.WaitForTerminalAsync(runId);
        var page = await _browser.NewPageAsync();
        var problems = new List<string>();

        await page.GotoAsync("/");
        await Expect(page.Locator($"tr[data-run-id='{runId}']")).ToBeVisibleAsync();
        problems.AddRange(await ViolationsAsync(page, "runs list"));
        await page.GotoAsync($"/ui/runs/{runId}");
        await Expect(page.Locator("#timeline li")).ToHaveCountAsync(4);
        problems.AddRange(await ViolationsAsync(page, "run page"));
        await page.GotoAsync("/ui/submit");
        await Expect(page.Locator("#workflow-type option[value=CWL]")).ToHaveCountAsync(1);
        problems.AddRange(await ViolationsAsync(page, "submit"));
        await page.GotoAsync("/ui/service");
        await Expect(page.Locator("#chart canvas")).ToHaveCountAsync(1);
        problems.AddRange(await ViolationsAsync(page, "service"));

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static async Task<IEnumerable<string>> ViolationsAsync(IPage page, string name)
    {
        var problems = new List<string>();
        foreach (var scheme in (ColorScheme[])[ColorScheme.Light, ColorScheme.Dark])
        {
            await page.EmulateMediaAsync(new() { ColorScheme = scheme });
            var result = await page.RunAxe(new AxeRunOptions { RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa"] } });
            problems.AddRange(result.Violations.Select(v =>
                $"{name} ({scheme}): {v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()).Take(3))}"));
        }

        return problems;
    }
}
