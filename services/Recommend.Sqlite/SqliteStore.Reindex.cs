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
        "lease_expires_at AS LeaseExpiresAt, cancel_requested AS CancelRequested";

    public async Task CreateJobAsync(ReindexJob job, CancellationToken ct)
    {
        var row = ReindexJobRow.From(job);
        // The check and the insert share the write lock, so two starts cannot both see no active job.
        var running = await WriteAsync(transaction =>
        {
            var active = _writer.QueryFirstOrDefault<string>($"SELECT id FROM reindex_jobs WHERE state IN {ActiveStates}", transaction: transaction);
            if (active is not null) return active;
            _writer.Execute(
                """
                INSERT INTO reindex_jobs (id, mode, source, model_id, dimension, max_bad_rows, target_version, state, phase, checkpoint,
                    total, processed, embedded, cached, deleted, bad_rows, error, created_at, started_at, finished_at, owner,
                    lease_expires_at, cancel_requested)
                VALUES (@Id, @Mode, @Source, @ModelId, @Dimension, @MaxBadRows, @TargetVersion, @State, @Phase, @Checkpoint,
                    @Total, @Processed, @Embedded, @Cached, @Deleted, @BadRows, @Error, @CreatedAt, @StartedAt, @FinishedAt, @Owner,
                    @LeaseExpiresAt, @CancelRequested)
                """, row, transaction);
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
            if (batch is null) return true;
            _writer.Execute(
                """
                INSERT INTO index_content_hashes (index_version, product_id, content_hash, mark) VALUES (@Version, @ProductId, @Hash, @Mark)
                ON CONFLICT (index_version, product_id) DO UPDATE SET content_hash = excluded.content_hash, mark = excluded.mark
                """,
                batch.Seen.Select(h => new { batch.Version, h.ProductId, h.Hash, batch.Mark }), transaction);
            _writer.Execute(
                "INSERT INTO reindex_bad_rows (job_id, line, product_id, message) VALUES (@JobId, @Line, @ProductId, @Message) ON CONFLICT DO NOTHING",
                batch.BadRows.Select(e => new { JobId = job.Id, e.Line, e.ProductId, e.Message }), transaction);
            return true;
        }, ct);
    }

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
