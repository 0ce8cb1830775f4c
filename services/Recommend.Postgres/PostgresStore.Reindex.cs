using Dapper;
using Npgsql;
using Recommend.Core.Reindexing;

namespace Recommend.Postgres;

public sealed partial class PostgresStore : IReindexJobStore
{
    private const string ActiveStates = "(1, 2, 3)";

    private const string JobColumns =
        "id as Id, mode as Mode, source as Source, model_id as ModelId, dimension as Dimension, max_bad_rows as MaxBadRows, " +
        "target_version as TargetVersion, state as State, phase as Phase, checkpoint as Checkpoint, total as Total, " +
        "processed as Processed, embedded as Embedded, cached as Cached, deleted as Deleted, bad_rows as BadRows, error as Error, " +
        "created_at as CreatedAt, started_at as StartedAt, finished_at as FinishedAt, owner as Owner, " +
        "lease_expires_at as LeaseExpiresAt, cancel_requested as CancelRequested, shard_count as ShardCount";

    private const string ShardColumns =
        "job_id as JobId, shard_index as ShardIndex, state as State, phase as Phase, checkpoint as Checkpoint, processed as Processed, " +
        "embedded as Embedded, cached as Cached, deleted as Deleted, bad_rows as BadRows, error as Error, owner as Owner, " +
        "lease_expires_at as LeaseExpiresAt";

    private const string InsertJob =
        """
        insert into reindex_jobs (id, mode, source, model_id, dimension, max_bad_rows, target_version, state, phase, checkpoint,
            total, processed, embedded, cached, deleted, bad_rows, error, created_at, started_at, finished_at, owner,
            lease_expires_at, cancel_requested, shard_count)
        values (@Id, @Mode, @Source, @ModelId, @Dimension, @MaxBadRows, @TargetVersion, @State, @Phase, @Checkpoint,
            @Total, @Processed, @Embedded, @Cached, @Deleted, @BadRows, @Error, @CreatedAt, @StartedAt, @FinishedAt, @Owner,
            @LeaseExpiresAt, @CancelRequested, @ShardCount)
        """;

    /// <summary>Serialises sharded workers deciding whether to create or join a job (transaction-scoped advisory lock).</summary>
    private const long ShardedJobLockKey = 0x7265696e646578; // "reindex"

    public async Task CreateJobAsync(ReindexJob job, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertJob, ReindexJobRow.From(job), cancellationToken: ct));
        }
        catch (PostgresException e) when (e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "reindex_jobs_one_active" })
        {
            // The partial unique index is the rule; the active job is read only to name it.
            var active = await GetActiveJobAsync(ct);
            throw new ReindexJobRunningException(active?.Id ?? "(finished meanwhile; retry)");
        }
    }

    public Task<ReindexJob?> GetJobAsync(string jobId, CancellationToken ct) =>
        QueryJobAsync($"select {JobColumns} from reindex_jobs where id = @jobId", new { jobId }, ct);

    public Task<ReindexJob?> GetActiveJobAsync(CancellationToken ct) =>
        QueryJobAsync($"select {JobColumns} from reindex_jobs where state in {ActiveStates}", null, ct);

    private async Task<ReindexJob?> QueryJobAsync(string sql, object? parameters, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        var row = await connection.QueryFirstOrDefaultAsync<ReindexJobRow>(new CommandDefinition(sql, parameters, cancellationToken: ct));
        return row?.ToJob();
    }

    public Task<ReindexJob?> TryClaimActiveJobAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct) =>
        QueryJobAsync(
            $"""
            update reindex_jobs set owner = @owner, lease_expires_at = @until
            where state in {ActiveStates} and (owner = @owner or owner is null or lease_expires_at is null or lease_expires_at < @now)
                and not exists (select 1 from reindex_shards s where s.job_id = reindex_jobs.id and s.state <> 4)
            returning {JobColumns}
            """,
            new { owner, now = now.ToUnixTimeMilliseconds(), until = leaseUntil.ToUnixTimeMilliseconds() }, ct);

    public async Task<LeaseStatus?> RenewLeaseAsync(string jobId, string owner, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        var cancelRequested = await connection.QueryFirstOrDefaultAsync<bool?>(new CommandDefinition(
            $"""
            update reindex_jobs set lease_expires_at = @until
            where id = @jobId and owner = @owner and state in {ActiveStates}
            returning cancel_requested
            """,
            new { jobId, owner, until = leaseUntil.ToUnixTimeMilliseconds() }, cancellationToken: ct));
        return cancelRequested is { } requested ? new LeaseStatus(requested) : null;
    }

    public async Task<bool> SaveJobAsync(ReindexJob job, JobBatch? batch, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            update reindex_jobs set target_version = @TargetVersion, state = @State, phase = @Phase, checkpoint = @Checkpoint,
                total = @Total, processed = @Processed, embedded = @Embedded, cached = @Cached, deleted = @Deleted,
                bad_rows = @BadRows, error = @Error, started_at = @StartedAt, finished_at = @FinishedAt,
                lease_expires_at = @LeaseExpiresAt
            where id = @Id and owner = @Owner
            """, ReindexJobRow.From(job), transaction, cancellationToken: ct));
        if (updated == 0) return false;
        if (batch is not null) await WriteBatchAsync(connection, transaction, job.Id, batch, ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>A batch's content hashes (tagged with the pass's mark) and bad rows, in the caller's transaction.</summary>
    private static async Task WriteBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string jobId, JobBatch batch, CancellationToken ct)
    {
        await UpsertHashesAsync(connection, transaction, batch.Version, batch.Seen, batch.Mark, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into reindex_bad_rows (job_id, line, product_id, message)
            select @JobId, * from unnest(@Lines, @ProductIds, @Messages)
            on conflict do nothing
            """,
            new
            {
                JobId = jobId,
                Lines = batch.BadRows.Select(e => e.Line).ToArray(),
                ProductIds = batch.BadRows.Select(e => e.ProductId).ToArray(),
                Messages = batch.BadRows.Select(e => e.Message).ToArray(),
            }, transaction, cancellationToken: ct));
    }

    public async Task<ReindexJob> CreateOrJoinShardedJobAsync(ReindexJob job, CancellationToken ct)
    {
        var row = ReindexJobRow.From(job);
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Plain job starts are kept out by the partial unique index; workers are serialised by the lock.
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(@key)", new { key = ShardedJobLockKey }, transaction, cancellationToken: ct));
        var existing = await connection.QueryFirstOrDefaultAsync<ReindexJobRow>(new CommandDefinition(
                $"select {JobColumns} from reindex_jobs where id = @Id", row, transaction, cancellationToken: ct))
            ?? await connection.QueryFirstOrDefaultAsync<ReindexJobRow>(new CommandDefinition(
                $"select {JobColumns} from reindex_jobs where state in {ActiveStates}", null, transaction, cancellationToken: ct));
        if (existing is not null)
        {
            if (existing.Id != row.Id && existing.ShardCount != row.ShardCount) throw new ReindexJobRunningException(existing.Id);
            return existing.ToJob();
        }
        await connection.ExecuteAsync(new CommandDefinition(InsertJob, row, transaction, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into reindex_shards (job_id, shard_index, state) select @JobId, i, @State from generate_series(0, @Count - 1) as i",
            new { JobId = job.Id, State = (int)ReindexState.Pending, Count = job.ShardCount }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return job;
    }

    public async Task<IReadOnlyList<ReindexShard>> GetShardsAsync(string jobId, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<ReindexShardRow>(new CommandDefinition(
            $"select {ShardColumns} from reindex_shards where job_id = @jobId order by shard_index", new { jobId }, cancellationToken: ct));
        return rows.Select(r => r.ToShard()).ToList();
    }

    public async Task<ReindexShard?> TryClaimShardAsync(string jobId, int shardIndex, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        // One statement: the claim if the job is unfinished and the lease free; else the shard as it is if it ended.
        var row = await connection.QueryFirstOrDefaultAsync<ReindexShardRow>(new CommandDefinition(
            $"""
            with job as (select 1 from reindex_jobs where id = @jobId and state in {ActiveStates}),
            claimed as (
                update reindex_shards set owner = @owner, lease_expires_at = @until
                where job_id = @jobId and shard_index = @shardIndex and state in (1, 2) and exists (select 1 from job)
                    and (owner = @owner or owner is null or lease_expires_at is null or lease_expires_at < @now)
                returning {ShardColumns})
            select * from claimed
            union all
            select {ShardColumns} from reindex_shards
            where job_id = @jobId and shard_index = @shardIndex and state not in (1, 2) and exists (select 1 from job)
            """,
            new { jobId, shardIndex, owner, now = now.ToUnixTimeMilliseconds(), until = leaseUntil.ToUnixTimeMilliseconds() }, cancellationToken: ct));
        return row?.ToShard();
    }

    public async Task<LeaseStatus?> RenewShardLeaseAsync(string jobId, int shardIndex, string owner, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        var cancelRequested = await connection.QueryFirstOrDefaultAsync<bool?>(new CommandDefinition(
            $"""
            update reindex_shards s set lease_expires_at = @until
            from reindex_jobs j
            where s.job_id = @jobId and s.shard_index = @shardIndex and s.owner = @owner and j.id = s.job_id and j.state in {ActiveStates}
            returning j.cancel_requested
            """,
            new { jobId, shardIndex, owner, until = leaseUntil.ToUnixTimeMilliseconds() }, cancellationToken: ct));
        return cancelRequested is { } requested ? new LeaseStatus(requested) : null;
    }

    public async Task<bool> SaveShardAsync(ReindexShard shard, JobBatch? batch, CancellationToken ct)
    {
        var row = ReindexShardRow.From(shard);
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            update reindex_shards set state = @State, phase = @Phase, checkpoint = @Checkpoint, processed = @Processed,
                embedded = @Embedded, cached = @Cached, deleted = @Deleted, bad_rows = @BadRows, error = @Error,
                lease_expires_at = @LeaseExpiresAt
            where job_id = @JobId and shard_index = @ShardIndex and owner = @Owner
            """, row, transaction, cancellationToken: ct));
        if (updated == 0) return false;
        await connection.ExecuteAsync(new CommandDefinition(
            """
            update reindex_jobs j set processed = s.processed, embedded = s.embedded, cached = s.cached, deleted = s.deleted, bad_rows = s.bad_rows
            from (select sum(processed) as processed, sum(embedded) as embedded, sum(cached) as cached, sum(deleted) as deleted,
                    sum(bad_rows) as bad_rows
                  from reindex_shards where job_id = @JobId) s
            where j.id = @JobId
            """, row, transaction, cancellationToken: ct));
        if (batch is not null) await WriteBatchAsync(connection, transaction, shard.JobId, batch, ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    public async Task<bool> EndJobAsync(string jobId, ReindexState state, string error, DateTimeOffset finishedAt, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            $"update reindex_jobs set state = @state, error = @error, finished_at = @at where id = @jobId and state in {ActiveStates}",
            new { jobId, state = (int)state, error, at = finishedAt.ToUnixTimeMilliseconds() }, cancellationToken: ct)) > 0;
    }

    /// <summary>With a mark, the pass's tag replaces the old one; without, the row keeps its tag (a write outside a pass).</summary>
    private static Task UpsertHashesAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string version, IReadOnlyList<ContentHash> hashes, string? mark, CancellationToken ct)
    {
        if (hashes.Count == 0) return Task.CompletedTask;
        var onConflict = mark is null ? "content_hash = excluded.content_hash" : "content_hash = excluded.content_hash, mark = excluded.mark";
        // on conflict cannot touch a row twice in one statement: the last hash of an id wins.
        var latest = hashes.GroupBy(h => h.ProductId, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        return connection.ExecuteAsync(new CommandDefinition(
            $"""
            insert into index_content_hashes (index_version, product_id, content_hash, mark)
            select @Version, p.id, p.hash, @Mark from unnest(@Ids, @Hashes) as p(id, hash)
            on conflict (index_version, product_id) do update set {onConflict}
            """,
            new
            {
                Version = version,
                Mark = mark ?? "",
                Ids = latest.Select(h => h.ProductId).ToArray(),
                Hashes = latest.Select(h => h.Hash).ToArray(),
            }, transaction, cancellationToken: ct));
    }

    public async Task<bool> RequestCancelAsync(string jobId, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            $"update reindex_jobs set cancel_requested = true where id = @jobId and state in {ActiveStates}", new { jobId }, cancellationToken: ct)) > 0;
    }

    public async Task<IReadOnlyList<SourceRowError>> GetBadRowsAsync(string jobId, int limit, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(long Line, string ProductId, string Message)>(new CommandDefinition(
            "select line, product_id, message from reindex_bad_rows where job_id = @jobId order by line limit @limit",
            new { jobId, limit }, cancellationToken: ct));
        return rows.Select(r => new SourceRowError(r.Line, r.ProductId, r.Message)).ToList();
    }

    public async Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return new Dictionary<string, string>();
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(string ProductId, string Hash)>(new CommandDefinition(
            "select product_id, content_hash from index_content_hashes where index_version = @version and product_id = any(@Ids)",
            new { version, Ids = productIds.Distinct().ToArray() }, cancellationToken: ct));
        return rows.ToDictionary(r => r.ProductId, r => r.Hash, StringComparer.Ordinal);
    }

    public async Task PutContentHashesAsync(string version, IReadOnlyList<ContentHash> hashes, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await UpsertHashesAsync(connection, null, version, hashes, mark: null, ct);
    }

    public async Task<IReadOnlyList<string>> ListUnmarkedProductsAsync(string version, string mark, string? afterId, int limit, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            """
            select product_id from index_content_hashes
            where index_version = @version and mark <> @mark and product_id > coalesce(@afterId, '')
            order by product_id limit @limit
            """,
            new { version, mark, afterId, limit }, cancellationToken: ct));
        return ids.AsList();
    }

    public async Task DeleteContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return;
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from index_content_hashes where index_version = @version and product_id = any(@Ids)",
            new { version, Ids = productIds.ToArray() }, cancellationToken: ct));
    }

    public async Task<long> CountContentHashesAsync(string version, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from index_content_hashes where index_version = @version", new { version }, cancellationToken: ct));
    }

    public async Task DropContentHashesAsync(string version, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from index_content_hashes where index_version = @version", new { version }, cancellationToken: ct));
    }
}
