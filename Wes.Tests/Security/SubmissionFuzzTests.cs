using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>
/// Generated RunWorkflow bodies (JSON and multipart, well-formed or mutated byte by byte) thrown at POST /runs: the
/// server answers each with 200 or a 4xx ErrorResponse, never a 5xx. CsCheck shrinks a failing body to a small one.
/// </summary>
public sealed class SubmissionFuzzTests(HostileServer server) : IClassFixture<HostileServer>
{
    private const string Boundary = "fuzz-b0undary";

    private static readonly string[] FieldNames =
    [
        "workflow_type", "workflow_type_version", "workflow_url", "workflow_params", "tags", "workflow_engine",
        "workflow_engine_version", "workflow_engine_parameters", "workflow_attachment",
    ];

    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.OneOf("CWL", "cwl", "v1.0", "1.2", "cwltool", "hello.cwl", "https://example.com/a.cwl", "", " ", "../../etc/passwd",
            "/etc/passwd", "http://169.254.169.254/", "http://[::1]:22/", "file:///etc/shadow", "a\\b", ".wes-params.json", "{}", "[]", "null"),
        Gen.String[0, 24],
        Gen.Char["\0\u0001\r\n\t\u202E\uD800\uDC00\uFFFD/\\.%\"'{}[]:;=,-_aé"].Array[0, 24].Select(chars => new string(chars)));

    private static readonly Gen<JsonNode?> Scalar = Gen.OneOf(
        Text.Select(Node),
        Gen.Int.Select(i => Node(i)),
        Gen.Bool.Select(b => Node(b)),
        Gen.Const((JsonNode?)null));

    private static readonly Gen<JsonNode?> Value = Gen.Frequency(
        (4, Scalar),
        (2, Gen.Select(Gen.OneOf(Text, Gen.OneOf(FieldNames), Gen.OneOf("class", "location", "path")).Array[0, 4], Scalar.Array[4], Object)),
        (1, Scalar.Array[0, 4].Select(Array)),
        (1, Gen.OneOf("File", "Directory").Select(Text, CwlFile)));

    /// <summary>A JSON object of RunRequest-like fields, written by hand so names may repeat.</summary>
    private static readonly Gen<byte[]> JsonBody = Gen.Select(Gen.OneOf(Gen.OneOf(FieldNames), Text).Array[0, 10], Value.Array[10],
        (names, values) => Encoding.UTF8.GetBytes("{" + string.Join(",", names.Select((name, i) =>
            $"{JsonValue.Create(name).ToJsonString()}:{values[i]?.ToJsonString() ?? "null"}")) + "}"));

    private static readonly Gen<byte[]> MultipartBody = Gen.Select(
        Gen.OneOf(FieldNames).Array[0, 10], Gen.OneOf(Text.Select(t => (string?)t), Gen.Const((string?)null)).Array[10], Text.Array[10],
        (names, filenames, contents) => Encoding.UTF8.GetBytes(string.Concat(names.Select((name, i) =>
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{(filenames[i] is { } f ? $"; filename=\"{f}\"" : "")}\r\n\r\n{contents[i]}\r\n")) +
            $"--{Boundary}--\r\n"));

    /// <summary>The valid JSON request with up to three fields replaced by generated values (null removes one).</summary>
    private static readonly Gen<byte[]> NearValidJson = Gen.Select(Gen.OneOf(FieldNames).Array[0, 3], Value.Array[3], (names, values) =>
    {
        var body = JsonNode.Parse(new RunRequestBuilder().WithoutAttachments().With("workflow_url", "https://example.com/a.cwl").ToJson())!.AsObject();
        foreach (var (name, value) in names.Zip(values))
        {
            body[name] = value?.DeepClone();
        }

        return Encoding.UTF8.GetBytes(body.ToJsonString());
    });

    /// <summary>The valid multipart request with generated text in up to three fields and a generated attachment name.</summary>
    private static readonly Gen<byte[]> NearValidMultipart = Gen.Select(Gen.OneOf(FieldNames).Array[0, 3], Text.Array[3], Text, (names, values, attachment) =>
    {
        var fields = new Dictionary<string, string> { ["workflow_type"] = "CWL", ["workflow_type_version"] = "v1.0", ["workflow_url"] = "hello.cwl", ["workflow_params"] = "{}" };
        foreach (var (name, value) in names.Zip(values))
        {
            fields[name] = value;
        }

        return Encoding.UTF8.GetBytes(string.Concat(fields.Select(f => $"--{Boundary}\r\nContent-Disposition: form-data; name=\"{f.Key}\"\r\n\r\n{f.Value}\r\n")) +
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_attachment\"; filename=\"hello.cwl\"\r\n\r\ncwlVersion: v1.0\r\n" +
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"workflow_attachment\"; filename=\"{attachment}\"\r\n\r\nx\r\n--{Boundary}--\r\n");
    });

    /// <summary>Byte-level damage: flips, cuts, repeats and insertions of characters that parsers care about.</summary>
    private static readonly Gen<(int Operation, int Position, int Length, string Insert)[]> Mutations = Gen.Frequency(
        (2, Gen.Const(System.Array.Empty<(int, int, int, string)>())),
        (1, Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Int[0, 64], Gen.OneOf("\"", "{", "}", "\0", "\r\n", $"--{Boundary}", "%", "\\uD800", "\xff\xfe", ":", ","))
            .Array[1, 4]));

    // Kind 0 and 1 are the matching content types, so most bodies get past the parsers into validation.
    private static readonly Gen<(int Kind, byte[] Body, (int, int, int, string)[] Damage)> Requests = Gen.OneOf(
        Gen.Select(Gen.Frequency((6, Gen.Const(0)), (1, Gen.Int[2, 3])), Gen.OneOf(NearValidJson, JsonBody), Mutations),
        Gen.Select(Gen.Frequency((6, Gen.Const(1)), (1, Gen.Int[2, 3])), Gen.OneOf(NearValidMultipart, MultipartBody), Mutations));

    // A fixed seed keeps the suite repeatable (this one once found a 500 from a NUL in a CWL File location);
    // WES_FUZZ_SEED=random and a larger WES_FUZZ_ITERATIONS explore new bodies on demand.
    private static readonly string? Seed = Environment.GetEnvironmentVariable("WES_FUZZ_SEED") switch
    {
        "random" => null,
        { Length: > 0 } given => given,
        _ => "bEElINS6UYG1",
    };

    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("WES_FUZZ_ITERATIONS"), out var n) ? n : 500;

    [Fact]
    public async Task GeneratedBodies_NeverGetA5xx()
    {
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        await Requests.SampleAsync(async request =>
        {
            var (kind, body, damage) = request;
            using var content = new ByteArrayContent(Mutate(body, damage));
            content.Headers.TryAddWithoutValidation("Content-Type", kind switch
            {
                0 => "application/json",
                1 => $"multipart/form-data; boundary={Boundary}",
                2 => "multipart/form-data; boundary=other",
                _ => "application/vnd.ga4gh+json",
            });

            using var response = await server.Http.PostAsync("/ga4gh/wes/v1/runs", content);

            var text = await response.Content.ReadAsStringAsync();
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode}: {text}");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                JsonAssert.Error(text, (int)response.StatusCode);
            }
        }, iter: Iterations, threads: 1, seed: Seed, print: r => $"{r.Kind}: {Encoding.UTF8.GetString(Mutate(r.Body, r.Damage))}");

        // Both outcomes occur, so the generated bodies reach past the parsers into validation and storage.
        Assert.Contains(200, statuses.Keys);
        Assert.Contains(400, statuses.Keys);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/ga4gh/wes/v1/service-info")).StatusCode);
    }

    private static JsonNode? Node<T>(T value) => JsonValue.Create(value);

    private static JsonNode? Array(JsonNode?[] items) => new JsonArray([.. items.Select(item => item?.DeepClone())]);

    private static JsonNode? CwlFile(string type, string location) =>
        new JsonObject { ["in"] = new JsonObject { ["class"] = type, ["location"] = location } };

    private static JsonNode? Object(string[] keys, JsonNode?[] values)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in keys.Zip(values))
        {
            obj[key] = value?.DeepClone();
        }

        return obj;
    }

    private static byte[] Mutate(byte[] body, (int Operation, int Position, int Length, string Insert)[] damage)
    {
        var bytes = body.ToList();
        foreach (var (operation, position, length, insert) in damage)
        {
            var at = bytes.Count == 0 ? 0 : position % bytes.Count;
            var span = Math.Min(length, bytes.Count - at);
            switch (operation)
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << (length % 8));
                    break;
                case 1:
                    bytes.RemoveRange(at, span);
                    break;
                case 2:
                    bytes.InsertRange(at, bytes.GetRange(at, span));
                    break;
                default:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(insert));
                    break;
            }
        }

        return [.. bytes];
    }
}
