using System.IO.Compression;
using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Persistence;

namespace Wes.Api;

/// <summary>
/// Unpacks the zip attachments a request names in its "wes.unpack" tag, into the folder the zip was attached in.
/// Every entry is checked like an attachment name (no "..", no absolute path, no link), nothing already there is
/// overwritten, and the entry count and the bytes written are limited, whatever the zip's headers claim.
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
    public static async Task UnpackAsync(
        RunWorkspace staging, string zipName, ISet<string> taken, long maxBytes, int maxEntries, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(zipName)?.Replace('\\', '/') ?? "";
        try
        {
            using var archive = ZipFile.OpenRead(staging.ResolveAttachment(zipName)!);
            if (archive.Entries.Count > maxEntries)
            {
                throw Refused(zipName, $"has {archive.Entries.Count} entries; the limit is {maxEntries} (Wes:UnpackMaxEntries)");
            }

            long written = 0;
            foreach (var entry in archive.Entries)
            {
                written += await ExtractAsync(staging, zipName, folder, entry, taken, maxBytes - written, cancellationToken);
            }
        }
        catch (InvalidDataException ex)
        {
            throw Refused(zipName, $"is not a readable zip file: {ex.Message}");
        }
        catch (IOException ex) when (!StorageFaults.IsOutOfSpace(ex))
        {
            throw Refused(zipName, $"could not be unpacked: {ex.Message}");
        }
    }

    private static async Task<long> ExtractAsync(
        RunWorkspace staging, string zipName, string folder, ZipArchiveEntry entry, ISet<string> taken, long budget,
        CancellationToken cancellationToken)
    {
        var isFolder = entry.FullName.EndsWith('/');
        var name = entry.FullName.TrimEnd('/');
        if (name.Length == 0)
        {
            return 0;
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
        if (isFolder)
        {
            Directory.CreateDirectory(target);
            return 0;
        }

        if (!taken.Add(relative))
        {
            throw Refused(zipName, $"entry '{name}' would overwrite '{relative}'");
        }

        if (entry.Length > budget)
        {
            throw TooLarge(zipName);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await using var source = entry.Open();
        await using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, true);
        // The header's size may lie; the bytes actually written are what count.
        var buffer = new byte[81920];
        long copied = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            copied += read;
            if (copied > budget)
            {
                throw TooLarge(zipName);
            }

            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        file.Flush(flushToDisk: true);
        return copied;
    }

    private static ApiException TooLarge(string zipName) =>
        Refused(zipName, "unpacks to more bytes than the limit (Wes:UnpackMaxBytes)");

    private static ApiException Refused(string zipName, string reason) =>
        new(StatusCodes.Status400BadRequest, $"{Tag}: '{zipName}' {reason}.");
}
