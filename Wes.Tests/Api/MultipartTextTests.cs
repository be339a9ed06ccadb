using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>Multipart text fields are decoded strictly: bytes that are not valid text are a 400 naming the field, never U+FFFD.</summary>
public sealed class MultipartTextTests : IDisposable
{
    private const string Boundary = "text-test-5c2a";
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly WesClient _client;

    public MultipartTextTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Theory]
    [InlineData("workflow_params", false)]
    [InlineData("tags", false)]
    [InlineData("workflow_url", false)]
    [InlineData("tags", true)]
    public async Task InvalidUtf8InATextField_Is400NamingTheField(string field, bool asFilePart)
    {
        // {"k": "a<FF FE>b"}: the two bytes can never occur in UTF-8.
        byte[] value = field == "workflow_url" ? [.. "hello"u8, 0xFF, 0xFE, .. ".cwl"u8] : [.. "{\"k\": \"a"u8, 0xFF, 0xFE, .. "b\"}"u8];
        var parts = ValidParts();
        parts[field] = (value, asFilePart ? "filename=\"f.json\"" : null, null);

        using var response = await _client.Http.PostAsync(_client.Url("/runs"), Multipart(parts));

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal($"Field {field} is not valid utf-8 text.", error["msg"]!.GetValue<string>());
        Assert.Equal(0, await _client.CountRunsAsync());
    }

    [Fact]
    public async Task ValidText_IsKeptExactly_IncludingAReplacementCharacterSentOnPurpose_AndADeclaredCharset()
    {
        var parts = ValidParts();
        parts["tags"] = (Encoding.UTF8.GetBytes("{\"sent\": \"\uFFFD\", \"accent\": \"é\"}"), null, null);
        // Some clients label text parts ISO-8859-1; é is then the single byte 0xE9.
        parts["workflow_params"] = (Encoding.Latin1.GetBytes("{\"message\": \"café\"}"), null, "text/plain; charset=ISO-8859-1");

        using var response = await _client.Http.PostAsync(_client.Url("/runs"), Multipart(parts));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var runId = System.Text.Json.Nodes.JsonNode.Parse(body)!["run_id"]!.GetValue<string>();
        var request = (await _client.GetJsonAsync($"/runs/{runId}"))["request"]!;
        Assert.Equal("\uFFFD", request["tags"]!["sent"]!.GetValue<string>());
        Assert.Equal("é", request["tags"]!["accent"]!.GetValue<string>());
        Assert.Equal("café", request["workflow_params"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task FieldSentTwice_Is400()
    {
        var body = Encoding.UTF8.GetString(await Multipart(ValidParts()).ReadAsByteArrayAsync())
            .Replace($"--{Boundary}--", $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_url\"\r\n\r\nother.cwl\r\n--{Boundary}--", StringComparison.Ordinal);

        using var response = await _client.Http.PostAsync(_client.Url("/runs"), Content(Encoding.UTF8.GetBytes(body)));

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("Field workflow_url is sent more than once.", error["msg"]!.GetValue<string>());
    }

    private static Dictionary<string, (byte[] Value, string? FileName, string? ContentType)> ValidParts() => new()
    {
        ["workflow_type"] = ("CWL"u8.ToArray(), null, null),
        ["workflow_type_version"] = ("v1.0"u8.ToArray(), null, null),
        ["workflow_url"] = ("hello.cwl"u8.ToArray(), null, null),
        ["workflow_params"] = ("{\"message\": \"hi\"}"u8.ToArray(), null, null),
    };

    /// <summary>The parts byte for byte, plus the hello.cwl attachment.</summary>
    private static ByteArrayContent Multipart(Dictionary<string, (byte[] Value, string? FileName, string? ContentType)> parts)
    {
        using var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        foreach (var (name, (value, fileName, contentType)) in parts)
        {
            Write($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{(fileName is null ? "" : "; " + fileName)}\r\n");
            Write(contentType is null ? "\r\n" : $"Content-Type: {contentType}\r\n\r\n");
            body.Write(value);
            Write("\r\n");
        }

        Write($"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_attachment\"; filename=\"hello.cwl\"\r\n\r\n");
        body.Write(Examples.Bytes("hello/hello.cwl"));
        Write($"\r\n--{Boundary}--\r\n");
        return Content(body.ToArray());
    }

    private static ByteArrayContent Content(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        return content;
    }
}
