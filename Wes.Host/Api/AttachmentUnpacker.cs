using System.IO.Compression;
using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Persistence;

namespace Wes.Api;

/// <summary>
/// Unpacks the zip attachments a request names in its "wes.unpack" tag, into the folder the zip was attached in.
/// Every entry is checked like an attachment name (no "..", no absolute path, no link), nothing already there is
/// overwritten, and the entries and bytes all zips of a request unpack together are limited, whatever the zips' headers claim.
/// </summary>
public static class AttachmentUnpacker
{
    public const string Tag = "wes.unpack";
    private const int UnixFileTypeMask = 0xF000;
    private const int UnixSymbolicLink = 0xA000;

    /// <summary>The attachments the tag names ("a.zip, data/b.zip"), normalised like attachment names.</summary>
    public static IReadOnlyList<string> Requested(JsonObject? tags) =>
        tags?[Tag] is JsonValue value && value.TryGetValue<string>(out var text)
            ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(RunSubmissionValidator.NormalizeRelative).Distinct(StringComparer.Ordinal).ToList()
            : [];

    /// <param name="taken">Every relative path already staged; entries are added to it.</param>
    /// <param name="budget">What all zips of the request may still unpack; spent here.</param>
    public static async Task UnpackAsync(RunWorkspace staging, string zipName, ISet<string> taken, UnpackBudget budget, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(zipName)?.Replace('\\', '/') ?? "";
        try
        {
            using var archive = ZipFile.OpenRead(staging.ResolveAttachment(zipName)!);
            // The central directory's count refuses a zip that cannot fit before anything of it is written.
            var entries = archive.Entries.Count(e => e.FullName.TrimEnd('/').Length > 0);
            if (entries > budget.MaxEntries - budget.Entries)
            {
                throw Refused(zipName, budget.Entries == 0
                    ? $"has {entries} entries; the limit is {budget.MaxEntries} (Wes:UnpackMaxEntries)"
                    : $"has {entries} entries; with the {budget.Entries} unpacked from the request's other zips, that is over the limit of {budget.MaxEntries} (Wes:UnpackMaxEntries)");
            }

            foreach (var entry in archive.Entries)
            {
                await ExtractAsync(staging, zipName, folder, entry, taken, budget, cancellationToken);
            }
        }
        catch (InvalidDataException ex)
        {
            // The zip library's own messages ("unsupported compression method") help the client; one that named the
            // staging folder would stay in the log.
            var detail = ex.Message.Contains(staging.Root, StringComparison.Ordinal) ? "" : $": {ex.Message}";
            throw Refused(zipName, $"is not a readable zip file{detail}", ex);
        }
        catch (IOException ex) when (!StorageFaults.IsOutOfSpace(ex))
        {
            // An I/O error's message names the staging folder on the server: the client hears the attachment's name only.
            throw Refused(zipName, "could not be unpacked: one of its entries could not be written (a name used for a file and a folder, " +
                "for example); the server log has the details", ex);
        }
    }

    private static async Task ExtractAsync(
        RunWorkspace staging, string zipName, string folder, ZipArchiveEntry entry, ISet<string> taken, UnpackBudget budget,
        CancellationToken cancellationToken)
    {
        var isFolder = entry.FullName.EndsWith('/');
        var name = entry.FullName.TrimEnd('/');
        if (name.Length == 0)
        {
            return;
        }

        if (RunSubmissionValidator.AttachmentNameProblem(name) is { } problem)
        {
            throw Refused(zipName, $"entry '{name}': {problem.Replace("workflow_attachment", "the entry", StringComparison.Ordinal)}");
        }

        if (((entry.ExternalAttributes >> 16) & UnixFileTypeMask) == UnixSymbolicLink)
        {
            throw Refused(zipName, $"entry '{name}' is a symbolic link, which is not unpacked");
        }

        var relative = RunSubmissionValidator.NormalizeRelative(folder.Length == 0 ? name : $"{folder}/{name}");
        var target = staging.ResolveAttachment(relative) ?? throw Refused(zipName, $"entry '{name}' would leave the run directory");
        if (++budget.Entries > budget.MaxEntries)
        {
            throw Refused(zipName, $"takes the request past {budget.MaxEntries} unpacked entries (Wes:UnpackMaxEntries)");
        }

        if (isFolder)
        {
            Directory.CreateDirectory(target);
            return;
        }

        if (!taken.Add(relative))
        {
            throw Refused(zipName, $"entry '{name}' would overwrite '{relative}'");
        }

        if (entry.Length > budget.BytesLeft)
        {
            throw TooLarge(zipName, budget);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await using var source = entry.Open();
        await using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, true);
        // The header's size may lie; the bytes actually written are what count.
        var buffer = new byte[81920];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            budget.BytesWritten += read;
            if (budget.BytesLeft < 0)
            {
                throw TooLarge(zipName, budget);
            }

            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        // Made durable with the rest of its batch (see SubmissionBatcher), unless this platform cannot do that.
        file.Flush(flushToDisk: Persistence.FileSystemSync.FlushEachFile);
    }

    private static ApiException TooLarge(string zipName, UnpackBudget budget) =>
        Refused(zipName, $"takes the request past {budget.MaxBytes} unpacked bytes, the limit for all its zips together (Wes:UnpackMaxBytes)");

    private static ApiException Refused(string zipName, string reason, Exception? cause = null) =>
        new(StatusCodes.Status400BadRequest, $"{Tag}: '{zipName}' {reason}.", cause);
}

/// <summary>
/// What all zips of one request may unpack together: bytes as written (Wes:UnpackMaxBytes) and entries unpacked,
/// folders included (Wes:UnpackMaxEntries). A limit per zip would let a request of many zips multiply it.
/// </summary>
public sealed class UnpackBudget(long maxBytes, int maxEntries)
{
    public long MaxBytes { get; } = maxBytes;
    public int MaxEntries { get; } = maxEntries;
    public long BytesWritten { get; set; }
    public int Entries { get; set; }
    public long BytesLeft => MaxBytes - BytesWritten;
}
