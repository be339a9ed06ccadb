namespace Wes.Persistence;

/// <summary>
/// One slice of the number of runs in a state. The runs in a state are the sum over its shards; a single shard
/// may be negative on PostgreSQL, where each connection writes the shard its backend picks.
/// </summary>
public sealed class RunStateCount
{
    public string State { get; set; } = "";
    public int Shard { get; set; }
    public long Count { get; set; }
}
