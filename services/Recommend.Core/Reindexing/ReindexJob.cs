using Recommend.Core.Vectors;

namespace Recommend.Core.Reindexing;

public enum ReindexMode
{
    /// <summary>Build a new index version beside the live one, verify it, switch readers, keep previous versions.</summary>
    Full = 1,
    /// <summary>Embed and upsert only new and changed products into the live version; remove vanished ones.</summary>
    Incremental = 2,
}

public enum ReindexState
{
    Pending = 1,
    Running = 2,
    Verifying = 3,
    Succeeded = 4,
    Failed = 5,
    Cancelled = 6,
}

/// <summary>Where a job is; with <see cref="ReindexJob.Checkpoint"/> it says where a resumed run picks up.</summary>
public enum ReindexPhase
{
    /// <summary>Reading the source (store or file) into the target version.</summary>
    Main = 0,
    /// <summary>Full runs: a pass over the store catching writes that raced the main pass.</summary>
    Reconcile = 1,
    /// <summary>Removing products the run did not see from the target version.</summary>
    Sweep = 2,
    /// <summary>Full runs: count and sample-query checks, then the switch.</summary>
    Verify = 3,
}

/// <summary>
/// One re-indexing job as persisted by <see cref="IReindexJobStore"/>: what it does, how far it got (phase, checkpoint,
/// counters) and who runs it (owner and lease, so a crashed runner's job can be taken over and resumed).
/// </summary>
public sealed record ReindexJob
{
    public required string Id { get; init; }
    public required ReindexMode Mode { get; init; }
    /// <summary>"store" or "file:/path".</summary>
    public required string Source { get; init; }
    /// <summary>The model and dimension the target version holds.</summary>
    public required IndexSpec Spec { get; init; }
    /// <summary>Bad source rows tolerated; -1 = unlimited.</summary>
    public int MaxBadRows { get; init; }
    /// <summary>The version built (full) or updated (incremental); set once the job has started.</summary>
    public string? TargetVersion { get; init; }
    public ReindexState State { get; init; } = ReindexState.Pending;
    public ReindexPhase Phase { get; init; }
    /// <summary>Last source position whose batch is durably applied (a product id or a file line number).</summary>
    public string? Checkpoint { get; init; }
    public long Total { get; init; }
    public long Processed { get; init; }
    public long Embedded { get; init; }
    public long Cached { get; init; }
    public long Deleted { get; init; }
    public long BadRows { get; init; }
    public string? Error { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Owner { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public bool CancelRequested { get; init; }
    /// <summary>0: one runner does everything. N: N workers each run a shard (<see cref="ReindexShard"/>); whoever
    /// finds every shard done verifies and switches.</summary>
    public int ShardCount { get; init; }

    public bool IsTerminal => State is ReindexState.Succeeded or ReindexState.Failed or ReindexState.Cancelled;
}

/// <summary>
/// One worker's part of a sharded job: the products whose <see cref="ShardKey"/> is <see cref="Index"/>, with its own
/// phase, checkpoint, counters and lease, so a restarted worker resumes its shard alone.
/// </summary>
public sealed record ReindexShard
{
    public required string JobId { get; init; }
    public required int Index { get; init; }
    /// <summary>Pending, Running, Succeeded, Failed or Cancelled.</summary>
    public ReindexState State { get; init; } = ReindexState.Pending;
    public ReindexPhase Phase { get; init; }
    public string? Checkpoint { get; init; }
    public long Processed { get; init; }
    public long Embedded { get; init; }
    public long Cached { get; init; }
    public long Deleted { get; init; }
    public long BadRows { get; init; }
    public string? Error { get; init; }
    public string? Owner { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
}

/// <summary>Which shard a product belongs to: FNV-1a over its id's UTF-8 bytes, so every process and platform agrees.</summary>
public static class ShardKey
{
    public static int Of(string productId, int shardCount)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(productId))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return (int)(hash % (ulong)shardCount);
    }
}

/// <summary>A source row that was skipped (or failed the job): 1-based line (file) or row ordinal (store).</summary>
public sealed record SourceRowError(long Line, string ProductId, string Message);

/// <summary>Fingerprint of what the index holds for a product (embedding text and payload), per index version.</summary>
public readonly record struct ContentHash(string ProductId, string Hash);

/// <summary>What one applied batch adds to the job store, written in the same transaction as the job's checkpoint.</summary>
/// <param name="Mark">Tags every product the pass saw, so a sweep can find the ones it did not see.</param>
public sealed record JobBatch(string Version, string Mark, IReadOnlyList<ContentHash> Seen, IReadOnlyList<SourceRowError> BadRows);

/// <summary>What a heartbeat learns: the lease is still held, and whether someone asked to cancel.</summary>
public readonly record struct LeaseStatus(bool CancelRequested);

/// <summary>A job could not start because another one has not finished (FAILED_PRECONDITION upstream).</summary>
public sealed class ReindexJobRunningException(string jobId)
    : InvalidOperationException($"reindex job {jobId} is running")
{
    public string JobId { get; } = jobId;
}

/// <summary>A re-indexing request that cannot be honoured in the current state (FAILED_PRECONDITION upstream).</summary>
public sealed class ReindexPreconditionException(string message) : InvalidOperationException(message);

/// <summary>No job has this id (NOT_FOUND upstream).</summary>
public sealed class ReindexJobNotFoundException(string jobId) : KeyNotFoundException($"reindex job {jobId} does not exist")
{
    public string JobId { get; } = jobId;
}
