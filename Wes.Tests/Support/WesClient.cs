using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Wes.Tests.Support;

/// <summary>A thin WES client for tests: submit, read, and wait for a state by polling (never by sleeping).</summary>
public sealed class WesClient(HttpClient http, string basePath) : IDisposable
{
    public HttpClient Http { get; } = http;
    public string BasePath { get; } = basePath;

    public string Url(string relative) => BasePath + relative;

    public Task<HttpResponseMessage> GetAsync(string relative) => Http.GetAsync(Url(relative));

    public Task<HttpResponseMessage> PostJsonAsync(string relative, string json) =>
        Http.PostAsync(Url(relative), new StringContent(json, Encoding.UTF8, "application/json"));

    public async Task<JsonObject> GetJsonAsync(string relative, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await GetAsync(relative);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {relative}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    /// <summary>Submits a JSON RunRequest and returns the run id, asserting 200.</summary>
    public async Task<string> SubmitAsync(RunRequestBuilder request)
    {
        using var response = await request.SendAsync(this);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /runs: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["run_id"]!.GetValue<string>();
    }

    public async Task<string> StateAsync(string runId) =>
        (await GetJsonAsync($"/runs/{runId}/status"))["state"]!.GetValue<string>();

    public async Task<string> WaitForStateAsync(string runId, Func<string, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var state = "";
        while (DateTime.UtcNow < deadline)
        {
            state = await StateAsync(runId);
            if (done(state))
            {
                return state;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Run {runId} still {state} after {timeout ?? TimeSpan.FromSeconds(60)}.");
    }

    public Task<string> WaitForAsync(string runId, string state, TimeSpan? timeout = null) =>
        WaitForStateAsync(runId, s => s == state || Terminal.Contains(s), timeout);

    public Task<string> WaitForTerminalAsync(string runId, TimeSpan? timeout = null) =>
        WaitForStateAsync(runId, Terminal.Contains, timeout);

    public static readonly HashSet<string> Terminal = ["COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED", "PREEMPTED"];

    public async Task<int> CountRunsAsync()
    {
        var count = 0;
        var token = "";
        do
        {
            var page = await GetJsonAsync($"/runs?page_size=500&page_token={Uri.EscapeDataString(token)}");
            count += page["runs"]!.AsArray().Count;
            token = page["next_page_token"]!.GetValue<string>();
        }
        while (token.Length > 0);
        return count;
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>A valid RunRequest by default; each With... changes one thing.</summary>
public sealed class RunRequestBuilder
{
    private readonly Dictionary<string, string> _fields = new()
    {
        ["workflow_type"] = "CWL",
        ["workflow_type_version"] = "v1.0",
        ["workflow_url"] = "hello.cwl",
        ["workflow_params"] = """{"message": "hi"}""",
    };

    private readonly List<(string Name, byte[] Content)> _attachments = [("hello.cwl", Examples.Bytes("hello/hello.cwl"))];

    public RunRequestBuilder With(string field, string? value)
    {
        if (value is null)
        {
            _fields.Remove(field);
        }
        else
        {
            _fields[field] = value;
        }

        return this;
    }

    public RunRequestBuilder WithTags(string json) => With("tags", json);

    public RunRequestBuilder WithoutAttachments()
    {
        _attachments.Clear();
        return this;
    }

    public RunRequestBuilder WithAttachment(string name, byte[] content)
    {
        _attachments.Add((name, content));
        return this;
    }

    public RunRequestBuilder WithAttachment(string name, string content) => WithAttachment(name, Encoding.UTF8.GetBytes(content));

    /// <summary>An example folder's files, attached under their paths relative to the folder.</summary>
    public static RunRequestBuilder ForExample(string folder, string workflow, string version)
    {
        var builder = new RunRequestBuilder().WithoutAttachments()
            .With("workflow_url", workflow).With("workflow_type_version", version)
            .With("workflow_params", File.ReadAllText(Path.Combine(Examples.Root, folder, "params.json")));
        var root = Path.Combine(Examples.Root, folder);
        foreach (var file in Directory.GetFiles(root, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith("params.json", StringComparison.Ordinal)))
        {
            builder.WithAttachment(Path.GetRelativePath(root, file).Replace('\\', '/'), File.ReadAllBytes(file));
        }

        return builder;
    }

    /// <summary>
    /// The multipart body, written byte for byte: filenames keep their subfolders and any hostile bytes exactly as
    /// sent, which HttpClient's own multipart content would escape or refuse.
    /// </summary>
    public HttpContent ToMultipart()
    {
        const string boundary = "wes-test-boundary-7d1f";
        using var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        foreach (var (name, value) in _fields)
        {
            Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        }

        foreach (var (name, content) in _attachments)
        {
            Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"workflow_attachment\"; filename=\"{name}\"\r\n");
            Write("Content-Type: application/octet-stream\r\n\r\n");
            body.Write(content);
            Write("\r\n");
        }

        Write($"--{boundary}--\r\n");
        var result = new ByteArrayContent(body.ToArray());
        result.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return result;
    }

    /// <summary>The same request as a JSON body (objects for the JSON fields, no attachments).</summary>
    public string ToJson()
    {
        var body = new JsonObject();
        foreach (var (name, value) in _fields)
        {
            body[name] = name is "workflow_params" or "tags" or "workflow_engine_parameters" ? JsonNode.Parse(value) : value;
        }

        return body.ToJsonString();
    }

    public Task<HttpResponseMessage> SendAsync(WesClient client) =>
        client.Http.PostAsync(client.Url("/runs"), ToMultipart());

    public Task<HttpResponseMessage> SendJsonAsync(WesClient client) =>
        client.PostJsonAsync("/runs", ToJson());
}

public static class Examples
{
    public static string Root { get; } = FindRoot();

    public static byte[] Bytes(string relative) => File.ReadAllBytes(Path.Combine(Root, relative));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "examples");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Wes.sln")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("examples/ not found above the test binary.");
    }
}

public static class JsonAssert
{
    public static JsonObject Error(string body, int status)
    {
        var error = JsonNode.Parse(body) as JsonObject;
        Assert.NotNull(error);
        Assert.Equal(status, error["status_code"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(error["msg"]!.GetValue<string>()));
        Assert.Equal(2, error.Count);
        return error;
    }

    public static async Task<JsonObject> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return Error(body, (int)status);
    }

    public static JsonSerializerOptions Options { get; } = new() { WriteIndented = false };
}
