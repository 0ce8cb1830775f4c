namespace Recommend.Core.Reindexing;

/// <summary>
/// Port: durable re-indexing state — jobs with their checkpoints and leases, bad-row reports, and per (index version,
/// product) content hashes that let incremental runs skip unchanged products. Implemented by the SQLite and Postgres
/// stores; shared by every replica and worker, so it is also where they coordinate.
/// </summary>
public interface IReindexJobStore
{
    /// <summary>Inserts <paramref name="job"/> unless a job that has not finished exists; checked and inserted atomically.</summary>
    /// <exception cref="ReindexJobRunningException">Another job is pending or running; names it.</exception>
    Task CreateJobAsync(ReindexJob job, CancellationToken ct);

    Task<ReindexJob?> GetJobAsync(string jobId, CancellationToken ct);

    /// <summary>The job that has not finished yet, if any (there is at most one).</summary>
    Task<ReindexJob?> GetActiveJobAsync(CancellationToken ct);

    /// <summary>
    /// Sharded jobs: returns the job with <paramref name="job"/>'s id if it exists (in any state), else joins the
    /// unfinished job if it is sharded the same way, else inserts <paramref name="job"/> with its
    /// <see cref="ReindexJob.ShardCount"/> pending shards — checked and written atomically, so concurrent workers end up
    /// in one job.
    /// </summary>
    /// <exception cref="ReindexJobRunningException">An unfinished job of another kind exists; names it.</exception>
    Task<ReindexJob> CreateOrJoinShardedJobAsync(ReindexJob job, CancellationToken ct);

    Task<IReadOnlyList<ReindexShard>> GetShardsAsync(string jobId, CancellationToken ct);

    /// <summary>
    /// Makes <paramref name="owner"/> the runner of shard <paramref name="shardIndex"/> of an unfinished job when its
    /// lease has expired before <paramref name="now"/> (or is the owner's). A shard that already ended is returned
    /// unchanged. Null when another runner still holds it or the job has finished.
    /// </summary>
    Task<ReindexShard?> TryClaimShardAsync(string jobId, int shardIndex, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct);

    /// <summary>Extends the shard's lease; null when <paramref name="owner"/> no longer holds it or the job has finished.</summary>
    Task<LeaseStatus?> RenewShardLeaseAsync(string jobId, int shardIndex, string owner, DateTimeOffset leaseUntil, CancellationToken ct);

    /// <summary>
    /// Like <see cref="SaveJobAsync"/> for one shard (fenced by its owner), also summing the shards' counters into the
    /// job. False, writing nothing, when the owner no longer holds the shard or the job has finished.
    /// </summary>
    Task<bool> SaveShardAsync(ReindexShard shard, JobBatch? batch, CancellationToken ct);

    /// <summary>Ends an unfinished job whatever its owner (a shard failed or was cancelled); false when already finished.</summary>
    Task<bool> EndJobAsync(string jobId, ReindexState state, string error, DateTimeOffset finishedAt, CancellationToken ct);

    /// <summary>
    /// Makes <paramref name="owner"/> the runner of the unfinished job when its lease has expired before
    /// <paramref name="now"/> (or it is already the owner's), until <paramref name="leaseUntil"/>. Null when there is no
    /// such job or another runner still holds it. A sharded job is claimable only once every shard has succeeded.
    /// </summary>
    Task<ReindexJob?> TryClaimActiveJobAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct);

    /// <summary>Extends the owner's lease; null when <paramref name="owner"/> no longer holds the job.</summary>
    Task<LeaseStatus?> RenewLeaseAsync(string jobId, string owner, DateTimeOffset leaseUntil, CancellationToken ct);

    /// <summary>
    /// Writes the job's progress (everything but its identity and the cancel flag) and, in the same transaction, the
    /// batch's content hashes and bad rows. Returns false, writing nothing, when <see cref="ReindexJob.Owner"/> no
    /// longer holds the job.
    /// </summary>
    Task<bool> SaveJobAsync(ReindexJob job, JobBatch? batch, CancellationToken ct);

    /// <summary>Flags an unfinished job for cancellation (its runner sees it at the next heartbeat); false when unknown or finished.</summary>
    Task<bool> RequestCancelAsync(string jobId, CancellationToken ct);

    /// <summary>The job's bad rows in line order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<SourceRowError>> GetBadRowsAsync(string jobId, int limit, CancellationToken ct);

    /// <summary>Content hashes recorded for <paramref name="version"/>, by product id; unknown ids are absent.</summary>
    Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct);

    /// <summary>
    /// Records hashes written outside a job (catalog writes). A product's mark is kept, so a write racing a pass is
    /// not mistaken for a product the pass did not see.
    /// </summary>
    Task PutContentHashesAsync(string version, IReadOnlyList<ContentHash> hashes, CancellationToken ct);

    /// <summary>Up to <paramref name="limit"/> products of <paramref name="version"/> after <paramref name="afterId"/> not tagged with <paramref name="mark"/>, in id order.</summary>
    Task<IReadOnlyList<string>> ListUnmarkedProductsAsync(string version, string mark, string? afterId, int limit, CancellationToken ct);

    Task DeleteContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct);

    Task<long> CountContentHashesAsync(string version, CancellationToken ct);

    /// <summary>Forgets every hash of a deleted version.</summary>
    Task DropContentHashesAsync(string version, CancellationToken ct);
}
