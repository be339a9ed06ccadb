using Microsoft.Playwright;
using Wes.Execution;
using Wes.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Wes.Tests.Dashboard;

/// <summary>The runs list, a run's page and the service page, in a real browser against a real server process.</summary>
[Collection("Browser")]
public sealed class DashboardPageTests
{
    private readonly BrowserFixture _browser;
    private readonly string _case = Guid.NewGuid().ToString("N")[..10];

    public DashboardPageTests(BrowserFixture browser)
    {
        _browser = browser;
        browser.PageErrors.Clear();
        SetDefaultExpectTimeout(15_000);
    }

    [Fact]
    public async Task RunsList_ShowsASubmittedRunAndItsStateChangeWithoutAReload()
    {
        using var client = _browser.Client();
        // The run goes on until the test ends it, however long the page takes to open on a busy machine.
        var runId = await client.SubmitAsync(new RunRequestBuilder().WithTags($$"""{"case": "{{_case}}", "wes.mock.delay_ms": "600000"}"""));
        await client.WaitForAsync(runId, "RUNNING");
        var page = await _browser.NewPageAsync();

        await page.GotoAsync("/");
        var row = page.Locator($"tr[data-run-id='{runId}']");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("RUNNING");
        await Expect(row).ToContainTextAsync("hello.cwl");
        await Expect(row).ToContainTextAsync("cwltool");
        await Expect(row).ToContainTextAsync($"case={_case}");
        await page.EvaluateAsync("window.sameDocument = true");

        await client.Http.PostAsync($"/ga4gh/wes/v1/runs/{runId}/cancel", null);
        await Expect(row.Locator(".badge")).ToHaveTextAsync("CANCELED");
        Assert.True(await page.EvaluateAsync<bool>("window.sameDocument === true"), "the page was reloaded");

        // Keyboard users reach the skip link first and the run's link from the list.
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.Locator("a.skip")).ToBeFocusedAsync();
        await row.Locator("a").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync($"**/ui/runs/{runId}");
        Assert.Empty(_browser.PageErrors);
    }

    [Fact]
    public async Task RunsList_FiltersByTagStateAndTextAndPagesThroughThem()
    {
        using var client = _browser.Client();
        var ids = new List<string>();
        for (var i = 0; i < 26; i++)
        {
            ids.Add(await client.SubmitAsync(new RunRequestBuilder().WithTags($$"""{"case": "{{_case}}", "wes.mock.delay_ms": "0"}""")));
        }

        var failed = await client.SubmitAsync(new RunRequestBuilder()
            .WithTags($$"""{"case": "{{_case}}", "wes.mock.outcome": "EXECUTOR_ERROR", "wes.mock.delay_ms": "0"}"""));
        var findable = await client.SubmitAsync(new RunRequestBuilder().WithTags($$"""{"case": "{{_case}}", "note": "needle-{{_case}}"}"""));
        foreach (var id in (string[])[.. ids, failed, findable])
        {
            await client.WaitForTerminalAsync(id);
        }

        var page = await _browser.NewPageAsync();
        await page.GotoAsync("/");
        await page.FillAsync("#filter-tag", $"case={_case}");
        await page.ClickAsync("#filters button[type=submit]");
        var rows = page.Locator("#runs tbody tr");
        await Expect(rows).ToHaveCountAsync(28);
        Assert.Contains($"tag=case%3D{_case}", page.Url, StringComparison.Ordinal);

        await page.SelectOptionAsync("#filter-size", "25");
        await Expect(rows).ToHaveCountAsync(25);
        await Expect(rows.First).ToHaveAttributeAsync("data-run-id", findable);
        await page.ClickAsync("#older");
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(rows.Last).ToHaveAttributeAsync("data-run-id", ids[0]);
        await page.ClickAsync("#newer");
        await Expect(rows).ToHaveCountAsync(25);

        await page.SelectOptionAsync("#filter-state", "EXECUTOR_ERROR");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-run-id", failed);

        await page.SelectOptionAsync("#filter-state", "");
        await page.FillAsync("#filter-q", $"needle-{_case}");
        await page.Keyboard.PressAsync("Enter");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-run-id", findable);

        // On a phone-sized screen the list still fits its width.
        await page.SetViewportSizeAsync(390, 800);
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways");
        await page.FillAsync("#filter-q", "");
        await page.SetViewportSizeAsync(1280, 900);
        await page.ClickAsync("#filters button[type=submit]");
        await BrowserFixture.ScreenshotAsync(page, "runs-list");
        Assert.Empty(_browser.PageErrors);
    }

    [Fact]
    public async Task RunPage_ShowsTheTimelineAndFollowsTheLogWhileTheRunGoesOn()
    {
        using var client = _browser.Client();
        var runId = await client.SubmitAsync(new RunRequestBuilder()
            .WithTags($$"""{"case": "{{_case}}", "wes.mock.delay_ms": "60000", "team": "genomics"}"""));
        await client.WaitForAsync(runId, "RUNNING");
        var page = await _browser.NewPageAsync(height: 1400);

        await page.GotoAsync($"/ui/runs/{runId}");
        await Expect(page.Locator("#run-state .badge")).ToHaveTextAsync("RUNNING");
        await Expect(page.Locator("#timeline li")).ToHaveCountAsync(3);
        await Expect(page.Locator("#timeline")).ToContainTextAsync("claimed (attempt 1)");
        await Expect(page.Locator("#request")).ToContainTextAsync("\"message\": \"hi\"");
        await Expect(page.Locator("#request")).ToContainTextAsync("team=genomics");
        await Expect(page.Locator("#log-view")).ToContainTextAsync("mock: running hello.cwl");

        // The engine writes on; the page shows the new line without being reloaded.
        await File.AppendAllTextAsync(new RunWorkspace(_browser.RunsDir, runId).StderrPath, $"step two of {_case} done\n");
        await Expect(page.Locator("#log-view")).ToContainTextAsync($"step two of {_case} done");
        await BrowserFixture.ScreenshotAsync(page, "run-page");

        await client.Http.PostAsync($"/ga4gh/wes/v1/runs/{runId}/cancel", null);
        await Expect(page.Locator("#run-state .badge")).ToHaveTextAsync("CANCELED");
        await Expect(page.Locator("#timeline li").Last).ToContainTextAsync("CANCELED");
        await Expect(page.Locator("#cancel")).ToBeHiddenAsync();
        Assert.Empty(_browser.PageErrors);
    }

    [Fact]
    public async Task CancelButton_AsksFirstAndCancelsTheRunOnlyWhenConfirmed()
    {
        using var client = _browser.Client();
        var runId = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.delay_ms": "60000"}"""));
        await client.WaitForAsync(runId, "RUNNING");
        var page = await _browser.NewPageAsync();
        await page.GotoAsync($"/ui/runs/{runId}");

        await page.ClickAsync("#cancel");
        await Expect(page.Locator("#cancel-dialog")).ToBeVisibleAsync();
        await page.ClickAsync("#cancel-dialog button[value=keep]");
        await Expect(page.Locator("#cancel-dialog")).ToBeHiddenAsync();
        Assert.Equal("RUNNING", await client.StateAsync(runId));

        await page.ClickAsync("#cancel");
        await page.ClickAsync("#confirm-cancel");
        await Expect(page.Locator("#run-state .badge")).ToHaveTextAsync("CANCELED");
        Assert.Equal("CANCELED", await client.StateAsync(runId));
        Assert.Empty(_browser.PageErrors);
    }

    [Fact]
    public async Task MarkupInARunsFields_IsShownAsTextOnTheListAndTheRunPage()
    {
        const string Markup = "<img src=x onerror=window.__xss=1>";
        using var client = _browser.Client();
        var name = $"{Markup}{_case}.cwl";
        var runId = await client.SubmitAsync(new RunRequestBuilder()
            .WithAttachment(name, "cwlVersion: v1.0\nclass: CommandLineTool\nbaseCommand: echo\ninputs: []\noutputs: []\n")
            .With("workflow_url", name)
            .With("workflow_params", $$"""{"{{Markup}}": "{{Markup}}"}""")
            .WithTags($$"""{"case": "{{_case}}", "{{Markup}}": "{{Markup}}"}"""));
        await client.WaitForTerminalAsync(runId);
        var page = await _browser.NewPageAsync();

        await page.GotoAsync($"/?q={Uri.EscapeDataString(_case)}");
        var row = page.Locator($"tr[data-run-id='{runId}']");
        await Expect(row).ToContainTextAsync($"{Markup}={Markup}");
        await Expect(row).ToContainTextAsync(name);
        Assert.Equal(0, await page.Locator("main img").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("window.__xss === undefined"), "markup on the list ran as script");
        await page.GotoAsync($"/ui/runs/{runId}");
        await Expect(page.Locator("#request")).ToContainTextAsync($"{Markup}={Markup}");
        await Expect(page.Locator("#request")).ToContainTextAsync(name);
        await Expect(page.Locator("#request")).ToContainTextAsync($"\"{Markup}\": \"{Markup}\"");

        Assert.Equal(0, await page.Locator("main img").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("window.__xss === undefined"), "markup on the run page ran as script");
        // The token is sent to this server only: a path naming another host is refused before any request.
        var refused = await page.EvaluateAsync<string>(
            "import(new URL('api.js', document.querySelector('script[type=module][src*=\"/js/\"]').src).href)" +
            ".then((m) => m.api('//elsewhere.invalid/x')).then(() => 'sent', (e) => e.message)");
        Assert.Contains("not this server", refused, StringComparison.Ordinal);
        Assert.Empty(_browser.PageErrors);
    }

    [Fact]
    public async Task ServicePage_ShowsEnginesExecutorsCountsAndTheFinishedRunsChart()
    {
        using var client = _browser.Client();
        await client.WaitForTerminalAsync(await client.SubmitAsync(new RunRequestBuilder()));
        var page = await _browser.NewPageAsync();

        await page.GotoAsync("/ui/service");
        await Expect(page.Locator("#cards")).ToContainTextAsync("Queue depth");
        await Expect(page.Locator("#cards")).ToContainTextAsync("Mock");
        await Expect(page.Locator("#engines")).ToContainTextAsync("cwltool");
        await Expect(page.Locator("#counts")).ToContainTextAsync("COMPLETE");
        await Expect(page.Locator("#chart canvas")).ToHaveCountAsync(1);
        await Expect(page.Locator("#chart-table tbody tr")).Not.ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "service");
        Assert.Empty(_browser.PageErrors);
    }
}
