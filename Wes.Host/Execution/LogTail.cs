using System.Text;

namespace Wes.Execution;

/// <summary>
/// Follows a log that grows: each read returns only the complete lines added since the one before, so a log of any
/// size is read once, a chunk at a time, in bounded memory. The file is opened like any file a workflow could have
/// replaced (<see cref="RegularFile"/>): a link, a FIFO or a device yields nothing. A line longer than
/// <see cref="MaxLineBytes"/> is skipped whole; a file that shrank (replaced or truncated) is read again from the start.
/// </summary>
public sealed class LogTail(string path)
{
    public const int MaxLineBytes = 64 * 1024;
    private const int ChunkBytes = 1024 * 1024;

    /// <summary>Read at most this much per call, so one call never takes long; the rest comes at the next.</summary>
    public const long MaxBytesPerRead = 64L * 1024 * 1024;

    private readonly List<byte> _partial = [];
    private long _offset;
    private bool _skippingLongLine;

    /// <summary>Lines skipped for being longer than <see cref="MaxLineBytes"/>.</summary>
    public int SkippedLines { get; private set; }

    /// <summary>The new complete lines, produced a chunk at a time as they are enumerated (never all held at once).</summary>
    public IEnumerable<string> ReadNewLines()
    {
        using var stream = RegularFile.TryOpen(path, out var facts);
        if (stream is null || facts is null)
        {
            yield break;
        }

        if (facts.Size < _offset)
        {
            _offset = 0;
            _partial.Clear();
            _skippingLongLine = false;
        }

        stream.Seek(_offset, SeekOrigin.Begin);
        var lines = new List<string>();
        var buffer = new byte[ChunkBytes];
        long taken = 0;
        int read;
        while (taken < MaxBytesPerRead && (read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            taken += read;
            _offset += read;
            lines.Clear();
            Split(buffer.AsSpan(0, read), lines);
            foreach (var line in lines)
            {
                yield return line;
            }
        }
    }

    private void Split(ReadOnlySpan<byte> chunk, List<string> lines)
    {
        while (chunk.Length > 0)
        {
            var end = chunk.IndexOf((byte)'\n');
            var piece = end < 0 ? chunk : chunk[..end];
            if (!_skippingLongLine)
            {
                if (_partial.Count + piece.Length > MaxLineBytes)
                {
                    _skippingLongLine = true;
                    _partial.Clear();
                    SkippedLines++;
                }
                else
                {
                    _partial.AddRange(piece);
                }
            }

            if (end < 0)
            {
                return;
            }

            if (!_skippingLongLine)
            {
                lines.Add(Encoding.UTF8.GetString(_partial.ToArray()));
            }

            _partial.Clear();
            _skippingLongLine = false;
            chunk = chunk[(end + 1)..];
        }
    }
}
