using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Wes.Execution;
using Wes.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Wes.Tests.Dashboard;

/// <summary>Submitting from the form, a real cwltool run with its output downloaded, and the token prompt with auth on.</summary>
[Collection("Browser")]
public sealed class DashboardSubmitTests : IDisposable
{
    private readonly BrowserFixture _browser;
    private readonly string _case = Guid.NewGuid().ToString("N")[..10];
    private readonly string _scratch = TempDirectory.Create("wes-browser-files");

    public DashboardSubmitTests(BrowserFixture browser)
    {
        _browser = browser;
        browser.PageErrors.Clear();
        SetDefaultExpectTimeout(15_000);
    }

    public void Dispose() => TempDirectory.Delete(_scratch);

    [Fact]
    public async Task SubmitForm_SendsTheWorkflowWithItsFolderAndCheckedYamlParamsThenOpensTheRun()
    {
        var folder = Path.Combine(_scratch, "flow");
        Directory.CreateDirectory(Path.Combine(folder, "lib"));
        await File.WriteAllTextAsync(Path.Combine(folder, "lib", "helper.txt"), "helper");
        await File.WriteAllTextAsync(Path.Combine(folder, "input.txt"), "input");
        var page = await _browser.NewPageAsync(height: 1100);
        await page.GotoAsync("/ui/submit");
        await Expect(page.Locator("#workflow-type option[value=CWL]")).ToHaveCountAsync(1);

        await page.SetInputFilesAsync("#workflow-file", Path.Combine(Examples.Root, "hello", "hello.cwl"));
        await page.SetInputFilesAsync("#attachments", folder);
        await Expect(page.Locator("#attachment-list")).ToContainTextAsync("lib/helper.txt");
        await page.SelectOptionAsync("#workflow-type-version", "v1.0");
        await page.SelectOptionAsync("#workflow-engine", "cwltool");
        await page.CheckAsync("input[name=params_format][value=yaml]");
        await page.FillAsync("#params", "message: [not closed");
        await page.FillAsync("#tags", $"case={_case}\nowner team=lab 7");
        await page.ClickAsync("#submit");
        // Bad YAML is caught in the page; nothing is sent.
        await Expect(page.Locator("#params-error")).ToContainTextAsync("Not valid YAML");
        await Expect(page.Locator("#params")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.EndsWith("/ui/submit", page.Url, StringComparison.Ordinal);

        await page.FillAsync("#params", "message: hello from yaml\ncount: 3\n");
        await Expect(page.Locator("#params-error")).ToBeEmptyAsync();
        await BrowserFixture.ScreenshotAsync(page, "submit");
        await page.ClickAsync("#submit");
        await page.WaitForURLAsync("**/ui/runs/**");
        var runId = page.Url.Split('/')[^1];
        await Expect(page.Locator("#run-state .badge")).ToHaveTextAsync("COMPLETE");

        using var client = _browser.Client();
        var request = (await client.GetJsonAsync($"/runs/{runId}"))["request"]!;
        Assert.Equal("hello from yaml", request["workflow_params"]!["message"]!.GetValue<string>());
        Assert.Equal(3, request["workflow_params"]!["count"]!.GetValue<int>());
        Assert.Equal("hello.cwl", request["workflow_url"]!.GetValue<string>());
        Assert.Equal("lab 7", request["tags"]!["owner team"]!.GetValue<string>());
        var exe = new RunWorkspace(_browser.RunsDir, runId).ExeDir;
        Assert.Equal("helper", await File.ReadAllTextAsync(Path.Combine(exe, "lib", "helper.txt")));
        Assert.Equal("input", await File.ReadAllTextAsync(Path.Combine(exe, "input.txt")));
        Assert.Empty(_browser.PageErrors);
    }

    [Fact]
    public async Task SubmitForm_RunsARealCwltoolWorkflowWhoseOutputDownloads()
    {
        var dataDir = TempDirectory.Create("wes-browser-cwltool");
        try
        {
            using var server = await HostProcess.StartAsync(new Dictionary<string, string> { ["WES_DATA_DIR"] = dataDir });
            var page = await _browser.NewPageAsync(server);
            var pipeline = Path.Combine(Examples.Root, "pipeline");
            await page.GotoAsync("/ui/submit");
            await Expect(page.Locator("#workflow-type option[value=CWL]")).ToHaveCountAsync(1);

            // The folder holds the workflow file too; it is sent once.
            await page.SetInputFilesAsync("#workflow-file", Path.Combine(pipeline, "workflow.cwl"));
            await page.SetInputFilesAsync("#attachments", pipeline);
            await page.SelectOptionAsync("#workflow-type-version", "v1.2");
            await page.FillAsync("#params", await File.ReadAllTextAsync(Path.Combine(pipeline, "params.json")));
            await page.ClickAsync("#submit");
            await page.WaitForURLAsync("**/ui/runs/**");

            await Expect(page.Locator("#run-state .badge")).ToHaveTextAsync("COMPLETE", new() { Timeout = 90_000 });
            await Expect(page.Locator("#tasks tbody tr")).ToHaveCountAsync(2);
            await Expect(page.Locator("#outputs ul.files a")).ToHaveCountAsync(2);
            var link = page.Locator("#outputs ul.files a", new() { HasText = "count.txt" });
            var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
            await using var content = await download.CreateReadStreamAsync();
            using var reader = new StreamReader(content);
            Assert.Equal("9", (await reader.ReadToEndAsync()).Trim());
            Assert.Empty(_browser.PageErrors);
        }
        finally
        {
            TempDirectory.Delete(dataDir);
        }
    }

    [Fact]
    public async Task WithAuthOn_ThePageAsksForATokenOnceAndShowsOnlyThatUsersRuns()
    {
        var dataDir = TempDirectory.Create("wes-browser-auth");
        try
        {
            var settings = BrowserFixture.MockServer(dataDir);
            foreach (var (key, value) in TestAuth.TokenSettings())
            {
                settings[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
            }

            using var server = await HostProcess.StartAsync(settings);
            using var alice = _browser.Client(server, TestAuth.AliceToken);
            using var bob = _browser.Client(server, TestAuth.BobToken);
            var aliceRun = await alice.SubmitAsync(new RunRequestBuilder());
            var bobRun = await bob.SubmitAsync(new RunRequestBuilder());
            await bob.WaitForTerminalAsync(bobRun);
            var page = await _browser.NewPageAsync(server);

            await page.GotoAsync("/");
            var dialog = page.Locator("#token-dialog");
            await Expect(dialog).ToBeVisibleAsync();
            await page.FillAsync("#token-input", TestAuth.AliceToken);
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.Locator($"tr[data-run-id='{aliceRun}']")).ToBeVisibleAsync();
            await Expect(page.Locator("#runs tbody tr")).ToHaveCountAsync(1);
            await Expect(page.Locator($"tr[data-run-id='{bobRun}']")).ToHaveCountAsync(0);

            // The token is kept for the tab: another page asks for nothing.
            await page.GotoAsync($"/ui/runs/{aliceRun}");
            await Expect(page.Locator("#run-state .badge")).ToHaveTextAsync("COMPLETE");
            await Expect(dialog).ToHaveCountAsync(0);

            // Another user's run is refused, which leads back to the prompt.
            await page.GotoAsync($"/ui/runs/{bobRun}");
            await Expect(page.Locator("#token-reason")).ToContainTextAsync("belongs to another user");
            await page.FillAsync("#token-input", TestAuth.BobToken);
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.Locator("#run-state .badge")).ToHaveTextAsync("COMPLETE");
            await Expect(page.Locator("#request")).ToContainTextAsync("hello.cwl");
            Assert.Empty(_browser.PageErrors);
        }
        finally
        {
            TempDirectory.Delete(dataDir);
        }
    }
}
