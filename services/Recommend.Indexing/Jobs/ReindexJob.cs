using Recommend.Core.Vectors;

namespace Recommend.Indexing.Jobs;

/// <remarks>Values are persisted: never renumber.</remarks>
public enum ReindexMode
{
    /// <summary>Build a new index version beside the live one, verify it, switch readers, keep previous versions.</summary>
    Full = 1,
    /// <summary>Embed and upsert only new and changed products into the live version; remove vanished ones.</summary>
    Incremental = 2,
}

/// <remarks>Values are persisted (and named in the migrations' partial indexes): never renumber.</remarks>
public enum ReindexState
{
    Pending = 1,
    Running = 2,
    Verifying = 3,
    Succeeded = 4,
    Failed = 5,
    Cancelled = 6,
}

/// <summary>Where a run is; with <see cref="RunState.Checkpoint"/> it says where a resumed run picks up.</summary>
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

/// <summary>What a run has done so far; a sharded job's counters are the sum of its shards'.</summary>
public readonly record struct RunCounters(long Processed, long Embedded, long Cached, long Deleted, long BadRows)
{
    public static RunCounters operator +(RunCounters a, RunCounters b) => new(
        a.Processed + b.Processed, a.Embedded + b.Embedded, a.Cached + b.Cached, a.Deleted + b.Deleted, a.BadRows + b.BadRows);
}

/// <summary>
/// The progress of one unit of work — a whole job, or one shard of a sharded job — and who runs it: phase and checkpoint
/// say where a resumed run picks up, owner and lease let a crashed runner's work be taken over.
/// </summary>
public sealed record RunState
{
    public ReindexState State { get; init; } = ReindexState.Pending;
    public ReindexPhase Phase { get; init; }
    /// <summary>Last source position whose batch is durably applied (a product id or a file line number).</summary>
    public string? Checkpoint { get; init; }
    public RunCounters Counters { get; init; }
    public string? Error { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Owner { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    public bool IsTerminal => State is ReindexState.Succeeded or ReindexState.Failed or ReindexState.Cancelled;
}

/// <summary>What a runner holds and saves: a whole job (<see cref="Shard"/> null) or one shard of it.</summary>
public readonly record struct WorkUnit(string JobId, int? Shard = null)
{
    public override string ToString() => Shard is { } shard ? $"{JobId} shard {shard}" : JobId;
}

/// <summary>
/// One re-indexing job as persisted by <see cref="IReindexJobStore"/>: what it does (mode, source, spec), what it
/// builds (target version, total rows) and its <see cref="RunState"/>.
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
    /// <summary>Source rows, for progress (0 until counted).</summary>
    public long Total { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public bool CancelRequested { get; init; }
    /// <summary>0: one runner does everything. N: N workers each run a shard (<see cref="ReindexShard"/>); whoever
    /// finds every shard done verifies and switches.</summary>
    public int ShardCount { get; init; }
    public RunState Run { get; init; } = new();

    public WorkUnit Unit => new(Id);
    public ReindexState State => Run.State;
    public bool IsTerminal => Run.IsTerminal;
}

/// <summary>
/// One worker's part of a sharded job: the products whose <see cref="Sharding.ShardKey"/> is <see cref="Index"/>, with
/// its own run state, so a restarted worker resumes its shard alone.
/// </summary>
public sealed record ReindexShard(string JobId, int Index, RunState Run)
{
    public WorkUnit Unit => new(JobId, Index);
}

/// <summary>A source row that was skipped (or failed the job): 1-based line (file) or row ordinal (store).</summary>
public sealed record SourceRowError(long Line, string ProductId, string Message);

/// <summary>What one applied batch adds to the job store, written in the same transaction as the run's checkpoint.</summary>
/// <param name="Mark">Tags every product the pass saw, so a sweep can find the ones it did not see.</param>
public sealed record JobBatch(string Version, string Mark, IReadOnlyList<ContentHash> Seen, IReadOnlyList<SourceRowError> BadRows);

/// <summary>What a heartbeat learns: the lease is still held, and whether someone asked to cancel.</summary>
public readonly record struct LeaseStatus(bool CancelRequested);
