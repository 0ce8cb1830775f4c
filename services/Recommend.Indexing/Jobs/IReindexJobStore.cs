namespace Recommend.Indexing.Jobs;

/// <summary>
/// Port: durable re-indexing jobs — their run state (job and shards alike, as <see cref="WorkUnit"/>s), leases and
/// bad-row reports. Implemented by the SQLite and Postgres stores; shared by every replica and worker, so it is also
/// where they coordinate. The content hashes a batch records go through the same store's
/// <see cref="Recommend.Core.Vectors.IContentHashLedger"/>, in the checkpoint's transaction.
/// </summary>
public interface IReindexJobStore
{
    /// <summary>Inserts <paramref name="job"/> unless a job that has not finished exists; checked and inserted atomically.</summary>
    /// <exception cref="ReindexJobRunningException">Another job is pending or running; names it.</exception>
    Task CreateJobAsync(ReindexJob job, CancellationToken ct);

    /// <summary>
    /// Sharded jobs: returns the job with <paramref name="job"/>'s id if it exists (in any state), else joins the
    /// unfinished job if it is sharded the same way, else inserts <paramref name="job"/> with its
    /// <see cref="ReindexJob.ShardCount"/> pending shards — checked and written atomically, so concurrent workers end up
    /// in one job.
    /// </summary>
    /// <exception cref="ReindexJobRunningException">An unfinished job of another kind exists; names it.</exception>
    Task<ReindexJob> CreateOrJoinShardedJobAsync(ReindexJob job, CancellationToken ct);

    Task<ReindexJob?> GetJobAsync(string jobId, CancellationToken ct);

    /// <summary>The job that has not finished yet, if any (there is at most one).</summary>
    Task<ReindexJob?> GetActiveJobAsync(CancellationToken ct);

    Task<IReadOnlyList<ReindexShard>> GetShardsAsync(string jobId, CancellationToken ct);

    /// <summary>
    /// Makes <paramref name="owner"/> the runner of <paramref name="unit"/> of an unfinished job when its lease has
    /// expired before <paramref name="now"/> (or is the owner's), until <paramref name="leaseUntil"/>, and returns its run
    /// state. A job is claimable only once every shard it has succeeded; a shard that already ended is returned unchanged.
    /// Null when another runner still holds it, the job has finished, or the unit does not exist.
    /// </summary>
    Task<RunState?> TryClaimAsync(WorkUnit unit, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct);

    /// <summary>Extends the unit's lease; null when <paramref name="owner"/> no longer holds it or the job has finished.</summary>
    Task<LeaseStatus?> RenewLeaseAsync(WorkUnit unit, string owner, DateTimeOffset leaseUntil, CancellationToken ct);

    /// <summary>
    /// Writes the unit's run state (fenced by <see cref="RunState.Owner"/>) and, in the same transaction, the batch's
    /// content hashes and bad rows; a shard's counters are summed into its job. False, writing nothing, when the owner no
    /// longer holds the unit. (A shard's final state is saved even after its job ended, which its failure may have caused.)
    /// </summary>
    Task<bool> SaveRunAsync(WorkUnit unit, RunState run, JobBatch? batch, CancellationToken ct);

    /// <summary>Records the version a job builds and its source's row count (fenced by <paramref name="owner"/>).</summary>
    Task<bool> SetTargetAsync(string jobId, string owner, string targetVersion, long total, CancellationToken ct);

    /// <summary>Ends an unfinished job whatever its owner (a shard failed or was cancelled); false when already finished.</summary>
    Task<bool> EndJobAsync(string jobId, ReindexState state, string error, DateTimeOffset finishedAt, CancellationToken ct);

    /// <summary>Flags an unfinished job for cancellation (its runners see it at the next heartbeat); false when unknown or finished.</summary>
    Task<bool> RequestCancelAsync(string jobId, CancellationToken ct);

    /// <summary>The job's bad rows in line order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<SourceRowError>> GetBadRowsAsync(string jobId, int limit, CancellationToken ct);
}
