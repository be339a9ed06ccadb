using System.Net;
using System.Text;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>
/// Requests a hostile or broken client sends, each with the status the server must answer. Bodies are written byte
/// for byte, because HttpClient's own content types would repair or refuse many of them.
/// </summary>
public static class HostileRequestCorpus
{
    private const string Runs = "/ga4gh/wes/v1/runs";
    private const string Boundary = "hostile-7d1f";
    private const string Unknown = "00000000-0000-0000-0000-000000000000";
    private static readonly string M = HostileServer.Marker;

    public static IReadOnlyDictionary<string, (HttpStatusCode Status, Func<HttpRequestMessage> Request)> Cases { get; } = Build();

    private static Dictionary<string, (HttpStatusCode, Func<HttpRequestMessage>)> Build()
    {
        var cases = new Dictionary<string, (HttpStatusCode, Func<HttpRequestMessage>)>();
        void Add(string name, HttpStatusCode status, Func<HttpRequestMessage> request) => cases.Add(name, (status, request));
        void Bad(string name, Func<HttpRequestMessage> request) => Add(name, HttpStatusCode.BadRequest, request);
        void Form(string name, RunRequestBuilder builder, HttpStatusCode status = HttpStatusCode.BadRequest) =>
            Add(name, status, () => Post(builder.ToMultipart()));
        void JsonBody(string name, string body, HttpStatusCode status = HttpStatusCode.BadRequest) =>
            Add(name, status, () => Post(Content(Encoding.UTF8.GetBytes(body), "application/json")));
        void Url(string name, string url) => Form("workflow_url " + name, new RunRequestBuilder().WithoutAttachments().With("workflow_url", url));
        void Name(string name, string attachment) => Form("attachment " + name, new RunRequestBuilder().WithAttachment(attachment, "x"));
        void Get(string name, string path, HttpStatusCode status) => Add(name, status, () => new HttpRequestMessage(HttpMethod.Get, path));

        // Malformed multipart.
        Bad("multipart: body uses another boundary", () => Post(Multipart("--other\r\nContent-Disposition: form-data; name=\"workflow_type\"\r\n\r\nCWL\r\n--other--\r\n")));
        Bad("multipart: no boundary parameter", () => Post(Content(Encoding.UTF8.GetBytes(ValidForm()), "multipart/form-data")));
        Bad("multipart: empty boundary parameter", () => Post(Content(Encoding.UTF8.GetBytes(ValidForm()), "multipart/form-data; boundary=")));
        Bad("multipart: empty body", () => Post(Multipart("")));
        Bad("multipart: no closing boundary", () => Post(Multipart(ValidForm()[..^(Boundary.Length + 6)])));
        Bad("multipart: truncated inside a part's headers", () => Post(Multipart($"--{Boundary}\r\nContent-Disposition: form-da")));
        Bad("multipart: part without Content-Disposition", () => Post(Multipart($"--{Boundary}\r\nContent-Type: text/plain\r\n\r\nCWL\r\n--{Boundary}--\r\n")));
        Bad("multipart: part without a name", () => Post(Multipart($"--{Boundary}\r\nContent-Disposition: form-data\r\n\r\nCWL\r\n--{Boundary}--\r\n")));
        Bad("multipart: header line without a colon", () => Post(Multipart($"--{Boundary}\r\nnot a header\r\n\r\nCWL\r\n--{Boundary}--\r\n")));
        Bad("multipart: header line of 20 KB", () => Post(Multipart($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{new string('a', 20_000)}\"\r\n\r\nx\r\n--{Boundary}--\r\n")));
        Bad("multipart: 40 headers in one part", () => Post(Multipart($"--{Boundary}\r\n{string.Concat(Enumerable.Range(0, 40).Select(i => $"X-H{i}: v\r\n"))}Content-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--{Boundary}--\r\n")));
        Bad("multipart: boundary of 200 characters", () => Post(Content(Encoding.UTF8.GetBytes($"--{new string('b', 200)}\r\n"), $"multipart/form-data; boundary={new string('b', 200)}")));
        Bad("multipart: random bytes", () => Post(Content(Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray(), $"multipart/form-data; boundary={Boundary}")));
        Bad("multipart: JSON body", () => Post(Multipart(new RunRequestBuilder().ToJson())));
        Bad("multipart: NUL in a field name", () => Post(Multipart(ValidForm().Replace("name=\"workflow_type\"", "name=\"workflow_type\0\"", StringComparison.Ordinal))));
        Add("urlencoded: broken escapes", HttpStatusCode.UnsupportedMediaType, () => Post(Content("workflow_type=%%%&workflow_url=%zz"u8.ToArray(), "application/x-www-form-urlencoded")));

        // Malformed JSON.
        JsonBody("json: truncated", "{\"workflow_type\": ");
        JsonBody("json: trailing garbage", new RunRequestBuilder().WithoutAttachments().ToJson() + " x");
        JsonBody("json: single quotes", "{'workflow_type': 'CWL'}");
        JsonBody("json: comment", "{/* hi */ \"workflow_type\": \"CWL\"}");
        JsonBody("json: NaN", "{\"workflow_params\": NaN}");
        JsonBody("json: nested 1000 deep", "{\"workflow_params\": {\"a\": " + new string('[', 1000) + new string(']', 1000) + "}}");
        JsonBody("json: empty body", "");
        JsonBody("json: null", "null");
        JsonBody("json: a string", "\"CWL\"");
        JsonBody("json: a number", "12");
        JsonBody("json: an array", "[{\"workflow_type\": \"CWL\"}]");
        Bad("json: invalid UTF-8", () => Post(Content([.. "{\"workflow_type\": \""u8, 0xC3, 0x28, .. "\"}"u8], "application/json")));
        Bad("json: UTF-16", () => Post(Content(Encoding.Unicode.GetBytes(new RunRequestBuilder().ToJson()), "application/json; charset=utf-16")));
        JsonBody("json: lone surrogate in workflow_type", "{\"workflow_type\": \"\\uD800\", \"workflow_type_version\": \"v1.0\", \"workflow_url\": \"https://example.com/a.cwl\"}");
        JsonBody("json: duplicate field", "{\"workflow_url\": \"https://example.com/a.cwl\", \"workflow_url\": \"../x\"}");

        // Wrong types.
        foreach (var (field, value) in new[]
        {
            ("workflow_type", "5"), ("workflow_type", "[\"CWL\"]"), ("workflow_type", "{\"a\": 1}"), ("workflow_type", "true"),
            ("workflow_type_version", "1.1"), ("workflow_url", "42"), ("workflow_url", "[\"https://example.com/a.cwl\"]"),
            ("workflow_engine", "7"), ("workflow_engine_version", "false"), ("workflow_params", "5"), ("workflow_params", "true"),
            ("workflow_params", "[1, 2]"), ("workflow_params", "\"not an object\""), ("tags", "[]"), ("tags", "\"x\""),
            ("tags", "{\"a\": {\"b\": 1}}"), ("tags", "{\"a\": [1]}"), ("workflow_engine_parameters", "[]"),
            ("workflow_engine_parameters", "{\"parallel\": {\"x\": 1}}"), ("workflow_engine_parameters", "{\"--rm\": \"-rf /\"}"),
        })
        {
            JsonBody($"json: {field} = {value}", WithField(field, value));
        }

        Form("form: workflow_params is an array", new RunRequestBuilder().With("workflow_params", "[1]"));
        Form("form: tags is a number", new RunRequestBuilder().WithTags("5"));
        Form("form: engine parameter smuggles an option", new RunRequestBuilder().With("workflow_engine_parameters", "{\"parallel\": \"true --outdir /\"}"));

        // Oversized.
        JsonBody("size: JSON workflow_params over the field limit", WithField("workflow_params", $"{{\"a\": \"{new string('x', HostileServer.MaxField)}\"}}"), HttpStatusCode.RequestEntityTooLarge);
        JsonBody("size: JSON workflow_url over the field limit", WithField("workflow_url", $"\"https://example.com/{new string('x', HostileServer.MaxField)}\""), HttpStatusCode.RequestEntityTooLarge);
        JsonBody("size: JSON tags over the field limit", WithField("tags", $"{{\"a\": \"{new string('é', HostileServer.MaxField / 2)}\"}}"), HttpStatusCode.RequestEntityTooLarge);
        Form("size: form workflow_params over the field limit", new RunRequestBuilder().With("workflow_params", $"{{\"a\": \"{new string('x', HostileServer.MaxField)}\"}}"), HttpStatusCode.RequestEntityTooLarge);
        Add("size: field sent as a file over the field limit", HttpStatusCode.RequestEntityTooLarge, () => Post(Multipart(
            ValidForm().Replace($"--{Boundary}--", $"--{Boundary}\r\nContent-Disposition: form-data; name=\"tags\"; filename=\"t.json\"\r\n\r\n{{\"a\": \"{new string('x', HostileServer.MaxField)}\"}}\r\n--{Boundary}--", StringComparison.Ordinal))));
        Form("size: one attachment too many", Enumerable.Range(0, HostileServer.MaxAttachments).Aggregate(new RunRequestBuilder(), (b, i) => b.WithAttachment($"extra{i}.txt", "x")), HttpStatusCode.RequestEntityTooLarge);
        Form("size: attachments over their total", new RunRequestBuilder().WithAttachment("big.bin", new byte[HostileServer.MaxAttachmentBytes]), HttpStatusCode.RequestEntityTooLarge);
        Add("size: announced body over the limit", HttpStatusCode.RequestEntityTooLarge, () => Post(Content(new byte[HostileServer.MaxBody + 1], "application/json")));
        Add("size: chunked JSON body over the limit", HttpStatusCode.RequestEntityTooLarge, () => Post(new UnsizedContent(Encoding.UTF8.GetBytes(WithField("workflow_params", $"{{\"a\": \"{new string('x', (int)HostileServer.MaxBody)}\"}}")), "application/json")));
        Add("size: chunked multipart body over the limit", HttpStatusCode.RequestEntityTooLarge, () => Post(new UnsizedContent(
            Encoding.UTF8.GetBytes(ValidForm().Replace("cwlVersion: v1.0", new string('x', (int)HostileServer.MaxBody), StringComparison.Ordinal)),
            $"multipart/form-data; boundary={Boundary}")));
        Add("size: too many form parts", HttpStatusCode.RequestEntityTooLarge, () => Post(Multipart(string.Concat(Enumerable.Range(0, 80).Select(i => $"--{Boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n")) + $"--{Boundary}--\r\n")));
        Name("name of 1100 bytes", string.Concat(Enumerable.Repeat("abcdefghi/", 110)) + "x");
        Name("segment of 300 bytes", new string('s', 300) + ".cwl");

        // Unicode, NUL and control characters in names.
        foreach (var (label, name) in new[]
        {
            ("NUL", $"a\0{M}.cwl"), ("SOH", "\u0001.cwl"), ("tab", "a\tb.cwl"), ("DEL", "a\u007fb.cwl"), ("NEL", "a\u0085b.cwl"),
            ("right-to-left override", "exe\u202Ecwl.txt"), ("zero-width space", "hel\u200Blo.cwl"), ("byte order mark", "\uFEFFhello2.cwl"),
            ("line separator", "a\u2028b.cwl"), ("replacement character", "\uFFFD.cwl"), ("only a dot", "."), ("trailing slash", "dir/"),
            ("empty segment", "a//b.cwl"), ("backslash", "a\\b.cwl"),
        })
        {
            Name(label, name);
        }

        Form("attachment: a file and a folder at once", new RunRequestBuilder().WithAttachment("lib", "x").WithAttachment("lib/tool.cwl", "y"));
        Add("attachment: filename* with invalid UTF-8", HttpStatusCode.BadRequest, () => Post(Multipart(AttachmentPart("filename*=UTF-8''%C0%AF%C0%AF"))));
        Add("attachment: filename* with NUL", HttpStatusCode.BadRequest, () => Post(Multipart(AttachmentPart("filename*=UTF-8''a%00b.cwl"))));
        Form("workflow_url: NUL", new RunRequestBuilder().With("workflow_url", "hello\0.cwl"));
        Form("workflow_url: right-to-left override", new RunRequestBuilder().With("workflow_url", "hello\u202E.cwl"));

        // Traversal in every path-like field.
        foreach (var name in new[]
        {
            $"../{M}", $"a/../../{M}", $"/etc/{M}", $"C:\\{M}", $"C:/{M}", $"..\\{M}", $"./../{M}", $"a/./../../{M}", $"../../../../../../../../tmp/{M}",
            ".wes-params.json", "./.wes-params.json", $"sub/../../../etc/{M}",
        })
        {
            Name("traversal " + name, name);
        }

        Add("attachment: filename* traversal", HttpStatusCode.BadRequest, () => Post(Multipart(AttachmentPart($"filename*=UTF-8''..%2F..%2F{M}"))));
        Add("attachment: filename* absolute", HttpStatusCode.BadRequest, () => Post(Multipart(AttachmentPart($"filename*=UTF-8''%2Fetc%2F{M}"))));
        foreach (var url in new[]
        {
            "../hello.cwl", "/etc/passwd", "file:///etc/passwd", "file:/etc/passwd", "FILE:///etc/passwd", "jar:file:///x.jar!/a.cwl",
            "\\\\server\\share\\a.cwl", "gopher://example.com/a", "data:text/plain,cwlVersion", "javascript:alert(1)", "ftp://example.com/a.cwl",
            "http://127.0.0.1/a.cwl", "http://127.1/a.cwl", "http://[::1]/a.cwl", "http://[::ffff:127.0.0.1]/a.cwl", "http://0.0.0.0/a.cwl",
            "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/", "http://100.100.100.200/latest/", "http://10.1.2.3/a.cwl",
            "http://192.168.0.1/a.cwl", "http://[fe80::1]/a.cwl", "http://224.0.0.1/a.cwl", "http://2130706433/a.cwl", "http://0x7f000001/a.cwl",
            "https://user:secret@example.com/a.cwl",
        })
        {
            Url(url, url);
        }

        JsonBody("NUL in an input File location", WithField("workflow_params", "{\"in\": {\"class\": \"File\", \"location\": \"a\\u0000b.txt\"}}"));
        JsonBody("encoded NUL in a file:// input", WithField("workflow_params", "{\"in\": \"file:///tmp/a%00b\"}"));
        JsonBody("input File location on the metadata address", WithField("workflow_params", "{\"in\": {\"class\": \"File\", \"location\": \"http://169.254.169.254/latest/meta-data/iam\"}}"));
        JsonBody("input Directory path on loopback", WithField("workflow_params", "{\"in\": [{\"class\": \"Directory\", \"path\": \"http://127.0.0.1:2375/containers\"}]}"));
        JsonBody("input secondary file on a private address", WithField("workflow_params", "{\"in\": {\"class\": \"File\", \"location\": \"https://example.com/a\", \"secondaryFiles\": [{\"class\": \"File\", \"location\": \"http://10.0.0.5/b\"}]}}"));
        Get("run_id: encoded traversal", $"{Runs}/..%2F..%2Fetc%2Fpasswd", HttpStatusCode.NotFound);
        Get("run_id: encoded traversal to stdout", $"{Runs}/..%2F..%2F{M}/stdout", HttpStatusCode.NotFound);
        Get("run_id: dot dot", $"{Runs}/%2e%2e/status", HttpStatusCode.NotFound);
        Get("run_id: control character", $"{Runs}/a%01b", HttpStatusCode.NotFound);
        Get("task_id: traversal", $"{Runs}/{Unknown}/tasks/..%2F..%2Frequest.json", HttpStatusCode.NotFound);
        Get("attempt: negative", $"{Runs}/{Unknown}/attempts/-1/stdout", HttpStatusCode.NotFound);
        Get("attempt: too large for a number", $"{Runs}/{Unknown}/attempts/99999999999/stdout", HttpStatusCode.NotFound);
        Get("attempt: another file name", $"{Runs}/{Unknown}/attempts/1/passwd", HttpStatusCode.NotFound);
        foreach (var token in new[] { "../../etc/passwd", "%00", new string('A', 10_000), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "=", "eyJzZXEiOjF9", "-1", "' OR 1=1 --" })
        {
            Get($"page_token: {token[..Math.Min(token.Length, 40)]} ({token.Length} characters)", $"{Runs}?page_token={Uri.EscapeDataString(token)}", HttpStatusCode.BadRequest);
        }

        foreach (var size in new[] { "-1", "0", "abc", "1e3", "１０", " 5", "5 ", "0x10", "99999999999999999999", "1;DROP TABLE runs", "5&page_size=6" })
        {
            Get($"page_size: {size}", $"{Runs}?page_size={Uri.EscapeDataString(size)}", HttpStatusCode.BadRequest);
        }

        Get("tasks page_size: negative", $"{Runs}/{Unknown}/tasks?page_size=-5", HttpStatusCode.BadRequest);

        // Unknown routes and wrong methods.
        foreach (var path in new[] { "/ga4gh/wes/v1/nothing", "/ga4gh/wes/v2/runs", $"{Runs}/{Unknown}/a/b/c", "/ga4gh/wes/v1/service-info/x", "/.env", "/ga4gh/wes/v1/runs/../../../etc/passwd", $"{Runs}/{Unknown}/outputs/../../request.json" })
        {
            Get("route " + path, path, HttpStatusCode.NotFound);
        }

        foreach (var (method, path) in new[]
        {
            ("DELETE", Runs), ("PUT", Runs), ("PATCH", "/ga4gh/wes/v1/service-info"), ("POST", "/ga4gh/wes/v1/service-info"),
            ("DELETE", $"{Runs}/{Unknown}"), ("GET", $"{Runs}/{Unknown}/cancel"), ("PUT", $"{Runs}/{Unknown}/cancel"), ("TRACE", Runs),
            ("OPTIONS", Runs), ("POST", $"{Runs}/{Unknown}/status"), ("PROPFIND", Runs),
        })
        {
            Add($"method {method} {path}", HttpStatusCode.MethodNotAllowed, () => new HttpRequestMessage(new HttpMethod(method), path));
        }

        // Wrong content types.
        foreach (var type in new[] { "text/plain", "application/xml", "application/octet-stream", "multipart/mixed; boundary=x", "application/jsonp", "text/html", "image/png" })
        {
            Add("content type " + type, HttpStatusCode.UnsupportedMediaType, () => Post(Content(Encoding.UTF8.GetBytes(new RunRequestBuilder().ToJson()), type)));
        }

        Add("content type missing", HttpStatusCode.UnsupportedMediaType, () => Post(new ByteArrayContent(Encoding.UTF8.GetBytes(new RunRequestBuilder().ToJson()))));
        Add("content type garbage", HttpStatusCode.UnsupportedMediaType, () =>
        {
            var request = Post(new ByteArrayContent(Encoding.UTF8.GetBytes(new RunRequestBuilder().ToJson())));
            request.Content!.Headers.TryAddWithoutValidation("Content-Type", ";;;=");
            return request;
        });
        return cases;
    }

    private static HttpRequestMessage Post(HttpContent content) => new(HttpMethod.Post, Runs) { Content = content };

    private static ByteArrayContent Content(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static ByteArrayContent Multipart(string body) => Content(Encoding.UTF8.GetBytes(body), $"multipart/form-data; boundary={Boundary}");

    /// <summary>The valid default request as multipart text with this corpus's boundary.</summary>
    private static string ValidForm() =>
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_type\"\r\n\r\nCWL\r\n" +
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_type_version\"\r\n\r\nv1.0\r\n" +
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_url\"\r\n\r\nhello.cwl\r\n" +
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_params\"\r\n\r\n{{\"message\": \"hi\"}}\r\n" +
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_attachment\"; filename=\"hello.cwl\"\r\n\r\ncwlVersion: v1.0\r\n" +
        $"--{Boundary}--\r\n";

    /// <summary>The valid form plus one attachment whose Content-Disposition ends with <paramref name="filenameParameter"/>.</summary>
    private static string AttachmentPart(string filenameParameter) =>
        ValidForm().Replace($"--{Boundary}--", $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_attachment\"; filename=\"x\"; {filenameParameter}\r\n\r\nx\r\n--{Boundary}--", StringComparison.Ordinal);

    private static string WithField(string field, string rawJsonValue)
    {
        var fields = new Dictionary<string, string>
        {
            ["workflow_type"] = "\"CWL\"",
            ["workflow_type_version"] = "\"v1.0\"",
            ["workflow_url"] = "\"https://example.com/a.cwl\"",
            ["workflow_params"] = "{}",
        };
        fields[field] = rawJsonValue;
        return "{" + string.Join(", ", fields.Select(f => $"\"{f.Key}\": {f.Value}")) + "}";
    }
}
