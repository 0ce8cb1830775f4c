using Dapper;
using Microsoft.Data.Sqlite;
using Recommend.Core.Reindexing;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore : IReindexJobStore
{
    private const string ActiveStates = "(1, 2, 3)";

    private const string JobColumns =
        "id AS Id, mode AS Mode, source AS Source, model_id AS ModelId, dimension AS Dimension, max_bad_rows AS MaxBadRows, " +
        "target_version AS TargetVersion, state AS State, phase AS Phase, checkpoint AS Checkpoint, total AS Total, " +
        "processed AS Processed, embedded AS Embedded, cached AS Cached, deleted AS Deleted, bad_rows AS BadRows, error AS Error, " +
        "created_at AS CreatedAt, started_at AS StartedAt, finished_at AS FinishedAt, owner AS Owner, " +
        "lease_expires_at AS LeaseExpiresAt, cancel_requested AS CancelRequested, shard_count AS ShardCount";

    private const string ShardColumns =
        "job_id AS JobId, shard_index AS ShardIndex, state AS State, phase AS Phase, checkpoint AS Checkpoint, processed AS Processed, " +
        "embedded AS Embedded, cached AS Cached, deleted AS Deleted, bad_rows AS BadRows, error AS Error, owner AS Owner, " +
        "lease_expires_at AS LeaseExpiresAt";

    private const string InsertJob =
        """
        INSERT INTO reindex_jobs (id, mode, source, model_id, dimension, max_bad_rows, target_version, state, phase, checkpoint,
            total, processed, embedded, cached, deleted, bad_rows, error, created_at, started_at, finished_at, owner,
            lease_expires_at, cancel_requested, shard_count)
        VALUES (@Id, @Mode, @Source, @ModelId, @Dimension, @MaxBadRows, @TargetVersion, @State, @Phase, @Checkpoint,
            @Total, @Processed, @Embedded, @Cached, @Deleted, @BadRows, @Error, @CreatedAt, @StartedAt, @FinishedAt, @Owner,
            @LeaseExpiresAt, @CancelRequested, @ShardCount)
        """;

    public async Task CreateJobAsync(ReindexJob job, CancellationToken ct)
    {
        var row = ReindexJobRow.From(job);
        // The check and the insert share the write lock, so two starts cannot both see no active job.
        var running = await WriteAsync(transaction =>
        {
            var active = _writer.QueryFirstOrDefault<string>($"SELECT id FROM reindex_jobs WHERE state IN {ActiveStates}", transaction: transaction);
            if (active is not null) return active;
            _writer.Execute(InsertJob, row, transaction);
            return null;
        }, ct);
        if (running is not null) throw new ReindexJobRunningException(running);
    }

    public Task<ReindexJob?> GetJobAsync(string jobId, CancellationToken ct) =>
        QueryJobAsync($"SELECT {JobColumns} FROM reindex_jobs WHERE id = @jobId", new { jobId }, ct);

    public Task<ReindexJob?> GetActiveJobAsync(CancellationToken ct) =>
        QueryJobAsync($"SELECT {JobColumns} FROM reindex_jobs WHERE state IN {ActiveStates}", null, ct);

    private async Task<ReindexJob?> QueryJobAsync(string sql, object? parameters, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        var row = await connection.QueryFirstOrDefaultAsync<ReindexJobRow>(new CommandDefinition(sql, parameters, cancellationToken: ct));
        return row?.ToJob();
    }

    public async Task<ReindexJob?> TryClaimActiveJobAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var row = await WriteAsync(transaction => _writer.QueryFirstOrDefault<ReindexJobRow>(
            $"""
            UPDATE reindex_jobs SET owner = @owner, lease_expires_at = @until
            WHERE state IN {ActiveStates} AND (owner = @owner OR owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @now)
                AND NOT EXISTS (SELECT 1 FROM reindex_shards s WHERE s.job_id = reindex_jobs.id AND s.state <> 4)
            RETURNING {JobColumns}
            """,
            new { owner, now = now.ToUnixTimeMilliseconds(), until = leaseUntil.ToUnixTimeMilliseconds() }, transaction), ct);
        return row?.ToJob();
    }

    public async Task<LeaseStatus?> RenewLeaseAsync(string jobId, string owner, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var cancelRequested = await WriteAsync(transaction => _writer.QueryFirstOrDefault<bool?>(
            $"""
            UPDATE reindex_jobs SET lease_expires_at = @until
            WHERE id = @jobId AND owner = @owner AND state IN {ActiveStates}
            RETURNING cancel_requested
            """,
            new { jobId, owner, until = leaseUntil.ToUnixTimeMilliseconds() }, transaction), ct);
        return cancelRequested is { } requested ? new LeaseStatus(requested) : null;
    }

    public Task<bool> SaveJobAsync(ReindexJob job, JobBatch? batch, CancellationToken ct)
    {
        var row = ReindexJobRow.From(job);
        return WriteAsync(transaction =>
        {
            var updated = _writer.Execute(
                """
                UPDATE reindex_jobs SET target_version = @TargetVersion, state = @State, phase = @Phase, checkpoint = @Checkpoint,
                    total = @Total, processed = @Processed, embedded = @Embedded, cached = @Cached, deleted = @Deleted,
                    bad_rows = @BadRows, error = @Error, started_at = @StartedAt, finished_at = @FinishedAt,
                    lease_expires_at = @LeaseExpiresAt
                WHERE id = @Id AND owner = @Owner
                """, row, transaction);
            if (updated == 0) return false;
            if (batch is not null) WriteBatch(job.Id, batch, transaction);
            return true;
        }, ct);
    }

    /// <summary>A batch's content hashes (tagged with the pass's mark) and bad rows, in the caller's transaction.</summary>
    private void WriteBatch(string jobId, JobBatch batch, SqliteTransaction transaction)
    {
        _writer.Execute(
            """
            INSERT INTO index_content_hashes (index_version, product_id, content_hash, mark) VALUES (@Version, @ProductId, @Hash, @Mark)
            ON CONFLICT (index_version, product_id) DO UPDATE SET content_hash = excluded.content_hash, mark = excluded.mark
            """,
            batch.Seen.Select(h => new { batch.Version, h.ProductId, h.Hash, batch.Mark }), transaction);
        _writer.Execute(
            "INSERT INTO reindex_bad_rows (job_id, line, product_id, message) VALUES (@JobId, @Line, @ProductId, @Message) ON CONFLICT DO NOTHING",
            batch.BadRows.Select(e => new { JobId = jobId, e.Line, e.ProductId, e.Message }), transaction);
    }

    public async Task<ReindexJob> CreateOrJoinShardedJobAsync(ReindexJob job, CancellationToken ct)
    {
        var row = ReindexJobRow.From(job);
        var (joined, running) = await WriteAsync(transaction =>
        {
            var existing = _writer.QueryFirstOrDefault<ReindexJobRow>($"SELECT {JobColumns} FROM reindex_jobs WHERE id = @Id", row, transaction)
                ?? _writer.QueryFirstOrDefault<ReindexJobRow>($"SELECT {JobColumns} FROM reindex_jobs WHERE state IN {ActiveStates}", transaction: transaction);
            if (existing is not null)
                return existing.Id == row.Id || existing.ShardCount == row.ShardCount ? (existing, null) : ((ReindexJobRow?)null, existing.Id);
            _writer.Execute(InsertJob, row, transaction);
            _writer.Execute(
                "INSERT INTO reindex_shards (job_id, shard_index, state) VALUES (@JobId, @ShardIndex, @State)",
                Enumerable.Range(0, job.ShardCount).Select(i => new { JobId = job.Id, ShardIndex = i, State = (long)ReindexState.Pending }), transaction);
            return (row, null);
        }, ct);
        if (running is not null) throw new ReindexJobRunningException(running);
        return joined!.ToJob();
    }

    public async Task<IReadOnlyList<ReindexShard>> GetShardsAsync(string jobId, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        var rows = await connection.QueryAsync<ReindexShardRow>(new CommandDefinition(
            $"SELECT {ShardColumns} FROM reindex_shards WHERE job_id = @jobId ORDER BY shard_index", new { jobId }, cancellationToken: ct));
        return rows.Select(r => r.ToShard()).ToList();
    }

    public async Task<ReindexShard?> TryClaimShardAsync(string jobId, int shardIndex, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var row = await WriteAsync(transaction =>
        {
            var parameters = new { jobId, shardIndex, owner, now = now.ToUnixTimeMilliseconds(), until = leaseUntil.ToUnixTimeMilliseconds() };
            var active = _writer.ExecuteScalar<long>($"SELECT count(*) FROM reindex_jobs WHERE id = @jobId AND state IN {ActiveStates}", parameters, transaction) > 0;
            if (!active) return null;
            return _writer.QueryFirstOrDefault<ReindexShardRow>(
                $"""
                UPDATE reindex_shards SET owner = @owner, lease_expires_at = @until
                WHERE job_id = @jobId AND shard_index = @shardIndex AND state IN (1, 2)
                    AND (owner = @owner OR owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @now)
                RETURNING {ShardColumns}
                """, parameters, transaction)
                ?? _writer.QueryFirstOrDefault<ReindexShardRow>(
                    $"SELECT {ShardColumns} FROM reindex_shards WHERE job_id = @jobId AND shard_index = @shardIndex AND state NOT IN (1, 2)",
                    parameters, transaction);
        }, ct);
        return row?.ToShard();
    }

    public async Task<LeaseStatus?> RenewShardLeaseAsync(string jobId, int shardIndex, string owner, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var cancelRequested = await WriteAsync(transaction =>
        {
            var renewed = _writer.Execute(
                $"""
                UPDATE reindex_shards SET lease_expires_at = @until
                WHERE job_id = @jobId AND shard_index = @shardIndex AND owner = @owner
                    AND EXISTS (SELECT 1 FROM reindex_jobs WHERE id = @jobId AND state IN {ActiveStates})
                """,
                new { jobId, shardIndex, owner, until = leaseUntil.ToUnixTimeMilliseconds() }, transaction);
            return renewed == 0 ? null
                : _writer.QueryFirstOrDefault<bool?>("SELECT cancel_requested FROM reindex_jobs WHERE id = @jobId", new { jobId }, transaction);
        }, ct);
        return cancelRequested is { } requested ? new LeaseStatus(requested) : null;
    }

    public Task<bool> SaveShardAsync(ReindexShard shard, JobBatch? batch, CancellationToken ct)
    {
        var row = ReindexShardRow.From(shard);
        return WriteAsync(transaction =>
        {
            var updated = _writer.Execute(
                """
                UPDATE reindex_shards SET state = @State, phase = @Phase, checkpoint = @Checkpoint, processed = @Processed,
                    embedded = @Embedded, cached = @Cached, deleted = @Deleted, bad_rows = @BadRows, error = @Error,
                    lease_expires_at = @LeaseExpiresAt
                WHERE job_id = @JobId AND shard_index = @ShardIndex AND owner = @Owner
                """, row, transaction);
            if (updated == 0) return false;
            _writer.Execute(
                """
                UPDATE reindex_jobs SET (processed, embedded, cached, deleted, bad_rows) =
                    (SELECT sum(processed), sum(embedded), sum(cached), sum(deleted), sum(bad_rows) FROM reindex_shards WHERE job_id = @JobId)
                WHERE id = @JobId
                """, row, transaction);
            if (batch is not null) WriteBatch(shard.JobId, batch, transaction);
            return true;
        }, ct);
    }

    public Task<bool> EndJobAsync(string jobId, ReindexState state, string error, DateTimeOffset finishedAt, CancellationToken ct) =>
        WriteAsync(transaction => _writer.Execute(
            $"UPDATE reindex_jobs SET state = @state, error = @error, finished_at = @at WHERE id = @jobId AND state IN {ActiveStates}",
            new { jobId, state = (long)state, error, at = finishedAt.ToUnixTimeMilliseconds() }, transaction) > 0, ct);

    public Task<bool> RequestCancelAsync(string jobId, CancellationToken ct) =>
        WriteAsync(transaction => _writer.Execute(
            $"UPDATE reindex_jobs SET cancel_requested = 1 WHERE id = @jobId AND state IN {ActiveStates}", new { jobId }, transaction) > 0, ct);

    public async Task<IReadOnlyList<SourceRowError>> GetBadRowsAsync(string jobId, int limit, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        var rows = await connection.QueryAsync<(long Line, string ProductId, string Message)>(new CommandDefinition(
            "SELECT line, product_id, message FROM reindex_bad_rows WHERE job_id = @jobId ORDER BY line LIMIT @limit",
            new { jobId, limit }, cancellationToken: ct));
        return rows.Select(r => new SourceRowError(r.Line, r.ProductId, r.Message)).ToList();
    }

    public async Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return new Dictionary<string, string>();
        await using var connection = await OpenReaderAsync(ct);
        var rows = await connection.QueryAsync<(string ProductId, string Hash)>(new CommandDefinition(
            """
            SELECT product_id, content_hash FROM index_content_hashes
            WHERE index_version = @version AND product_id IN (SELECT value FROM json_each(@ids))
            """,
            new { version, ids = IdList(productIds) }, cancellationToken: ct));
        return rows.ToDictionary(r => r.ProductId, r => r.Hash, StringComparer.Ordinal);
    }

    public Task PutContentHashesAsync(string version, IReadOnlyList<ContentHash> hashes, CancellationToken ct)
    {
        if (hashes.Count == 0) return Task.CompletedTask;
        return WriteAsync(transaction => _writer.Execute(
            """
            INSERT INTO index_content_hashes (index_version, product_id, content_hash) VALUES (@version, @ProductId, @Hash)
            ON CONFLICT (index_version, product_id) DO UPDATE SET content_hash = excluded.content_hash
            """,
            hashes.Select(h => new { version, h.ProductId, h.Hash }), transaction), ct);
    }

    public async Task<IReadOnlyList<string>> ListUnmarkedProductsAsync(string version, string mark, string? afterId, int limit, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            """
            SELECT product_id FROM index_content_hashes
            WHERE index_version = @version AND mark <> @mark AND (@afterId IS NULL OR product_id > @afterId)
            ORDER BY product_id LIMIT @limit
            """,
            new { version, mark, afterId, limit }, cancellationToken: ct));
        return ids.AsList();
    }

    public Task DeleteContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return Task.CompletedTask;
        return WriteAsync(transaction => _writer.Execute(
            "DELETE FROM index_content_hashes WHERE index_version = @version AND product_id IN (SELECT value FROM json_each(@ids))",
            new { version, ids = IdList(productIds) }, transaction), ct);
    }

    public async Task<long> CountContentHashesAsync(string version, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM index_content_hashes WHERE index_version = @version", new { version }, cancellationToken: ct));
    }

    public Task DropContentHashesAsync(string version, CancellationToken ct) =>
        WriteAsync(transaction => _writer.Execute(
            "DELETE FROM index_content_hashes WHERE index_version = @version", new { version }, transaction), ct);
}
