using Dapper;
using Microsoft.Data.Sqlite;
using Recommend.Indexing.Jobs;
using Recommend.Sql;
using static Recommend.Sql.ReindexRows;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore : IReindexJobStore
{
    public async Task CreateJobAsync(ReindexJob job, CancellationToken ct)
    {
        var row = JobRow.From(job);
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

    public async Task<ReindexJob> CreateOrJoinShardedJobAsync(ReindexJob job, CancellationToken ct)
    {
        var row = JobRow.From(job);
        var (joined, running) = await WriteAsync(transaction =>
        {
            var existing = _writer.QueryFirstOrDefault<JobRow>($"SELECT {JobColumns} FROM reindex_jobs WHERE id = @Id", row, transaction)
                ?? _writer.QueryFirstOrDefault<JobRow>($"SELECT {JobColumns} FROM reindex_jobs WHERE state IN {ActiveStates}", transaction: transaction);
            if (existing is not null)
                return existing.Id == row.Id || existing.ShardCount == row.ShardCount ? (existing, null) : ((JobRow?)null, existing.Id);
            _writer.Execute(InsertJob, row, transaction);
            _writer.Execute(
                "INSERT INTO reindex_shards (job_id, shard_index, state) VALUES (@JobId, @ShardIndex, @State)",
                Enumerable.Range(0, job.ShardCount).Select(i => new { JobId = job.Id, ShardIndex = i, State = (long)ReindexState.Pending }), transaction);
            return (row, null);
        }, ct);
        if (running is not null) throw new ReindexJobRunningException(running);
        return joined!.ToJob();
    }

    public Task<ReindexJob?> GetJobAsync(string jobId, CancellationToken ct) =>
        QueryJobAsync($"SELECT {JobColumns} FROM reindex_jobs WHERE id = @jobId", new { jobId }, ct);

    public Task<ReindexJob?> GetActiveJobAsync(CancellationToken ct) =>
        QueryJobAsync($"SELECT {JobColumns} FROM reindex_jobs WHERE state IN {ActiveStates}", null, ct);

    private async Task<ReindexJob?> QueryJobAsync(string sql, object? parameters, CancellationToken ct)
    {
        return await ReadAsync(async connection =>
        {
            var row = await connection.QueryFirstOrDefaultAsync<JobRow>(new CommandDefinition(sql, parameters, cancellationToken: ct));
            return row?.ToJob();
        }, ct);
    }

    public async Task<IReadOnlyList<ReindexShard>> GetShardsAsync(string jobId, CancellationToken ct)
    {
        return await ReadAsync(async connection =>
        {
            var rows = await connection.QueryAsync<ShardRow>(new CommandDefinition(
                $"SELECT {ShardColumns} FROM reindex_shards WHERE job_id = @jobId ORDER BY shard_index", new { jobId }, cancellationToken: ct));
            return rows.Select(r => r.ToShard()).ToList();
        }, ct);
    }

    public async Task<RunState?> TryClaimAsync(WorkUnit unit, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var parameters = new { unit.JobId, unit.Shard, owner, now = now.ToUnixTimeMilliseconds(), until = leaseUntil.ToUnixTimeMilliseconds() };
        const string Expired = "(owner = @owner OR owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @now)";
        var row = await WriteAsync(transaction =>
        {
            if (unit.Shard is null)
            {
                return _writer.QueryFirstOrDefault<RunRow>(
                    $"""
                    UPDATE reindex_jobs SET owner = @owner, lease_expires_at = @until
                    WHERE id = @JobId AND state IN {ActiveStates} AND {Expired}
                        AND NOT EXISTS (SELECT 1 FROM reindex_shards s WHERE s.job_id = reindex_jobs.id AND s.state <> {Succeeded})
                    RETURNING {RunColumns}
                    """, parameters, transaction);
            }
            var active = _writer.ExecuteScalar<long>($"SELECT count(*) FROM reindex_jobs WHERE id = @JobId AND state IN {ActiveStates}", parameters, transaction) > 0;
            if (!active) return null;
            return _writer.QueryFirstOrDefault<RunRow>(
                $"""
                UPDATE reindex_shards SET owner = @owner, lease_expires_at = @until
                WHERE job_id = @JobId AND shard_index = @Shard AND state IN {ClaimableShardStates} AND {Expired}
                RETURNING {RunColumns}
                """, parameters, transaction)
                ?? _writer.QueryFirstOrDefault<RunRow>(
                    $"SELECT {RunColumns} FROM reindex_shards WHERE job_id = @JobId AND shard_index = @Shard AND state NOT IN {ClaimableShardStates}",
                    parameters, transaction);
        }, ct);
        return row?.ToRunState();
    }

    public async Task<LeaseStatus?> RenewLeaseAsync(WorkUnit unit, string owner, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var parameters = new { unit.JobId, unit.Shard, owner, until = leaseUntil.ToUnixTimeMilliseconds() };
        var cancelRequested = await WriteAsync(transaction =>
        {
            var renewed = unit.Shard is null
                ? _writer.Execute(
                    $"UPDATE reindex_jobs SET lease_expires_at = @until WHERE id = @JobId AND owner = @owner AND state IN {ActiveStates}",
                    parameters, transaction)
                : _writer.Execute(
                    $"""
                    UPDATE reindex_shards SET lease_expires_at = @until
                    WHERE job_id = @JobId AND shard_index = @Shard AND owner = @owner
                        AND EXISTS (SELECT 1 FROM reindex_jobs WHERE id = @JobId AND state IN {ActiveStates})
                    """, parameters, transaction);
            return renewed == 0 ? null
                : _writer.QueryFirstOrDefault<bool?>("SELECT cancel_requested FROM reindex_jobs WHERE id = @JobId", parameters, transaction);
        }, ct);
        return cancelRequested is { } requested ? new LeaseStatus(requested) : null;
    }

    public Task<bool> SaveRunAsync(WorkUnit unit, RunState run, JobBatch? batch, CancellationToken ct)
    {
        var row = RunRow.From(run);
        var parameters = new DynamicParameters(row);
        parameters.AddDynamicParams(new { unit.JobId, unit.Shard });
        return WriteAsync(transaction =>
        {
            if (unit.Shard is null)
            {
                if (_writer.Execute($"UPDATE reindex_jobs SET {SetRunColumns} WHERE id = @JobId AND owner = @Owner", parameters, transaction) == 0)
                    return false;
            }
            else
            {
                var updated = _writer.Execute(
                    $"""
                    UPDATE reindex_shards SET {SetRunColumns} WHERE job_id = @JobId AND shard_index = @Shard AND owner = @Owner
                    """, parameters, transaction);
                if (updated == 0) return false;
                _writer.Execute(
                    """
                    UPDATE reindex_jobs SET (processed, embedded, cached, deleted, bad_rows) =
                        (SELECT sum(processed), sum(embedded), sum(cached), sum(deleted), sum(bad_rows) FROM reindex_shards WHERE job_id = @JobId)
                    WHERE id = @JobId
                    """, parameters, transaction);
            }
            if (batch is not null) WriteBatch(unit.JobId, batch, transaction);
            return true;
        }, ct);
    }

    public Task<bool> SetTargetAsync(string jobId, string owner, string targetVersion, long total, CancellationToken ct) =>
        WriteAsync(transaction => _writer.Execute(
            "UPDATE reindex_jobs SET target_version = @targetVersion, total = @total WHERE id = @jobId AND owner = @owner",
            new { jobId, owner, targetVersion, total }, transaction) > 0, ct);

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

    public Task<bool> EndJobAsync(string jobId, ReindexState state, string error, DateTimeOffset finishedAt, CancellationToken ct) =>
        WriteAsync(transaction => _writer.Execute(
            $"UPDATE reindex_jobs SET state = @state, error = @error, finished_at = @at WHERE id = @jobId AND state IN {ActiveStates}",
            new { jobId, state = (long)state, error, at = finishedAt.ToUnixTimeMilliseconds() }, transaction) > 0, ct);

    public Task<bool> RequestCancelAsync(string jobId, CancellationToken ct) =>
        WriteAsync(transaction => _writer.Execute(
            $"UPDATE reindex_jobs SET cancel_requested = 1 WHERE id = @jobId AND state IN {ActiveStates}", new { jobId }, transaction) > 0, ct);

    public async Task<IReadOnlyList<SourceRowError>> GetBadRowsAsync(string jobId, int limit, CancellationToken ct)
    {
        return await ReadAsync(async connection =>
        {
            var rows = await connection.QueryAsync<(long Line, string ProductId, string Message)>(new CommandDefinition(
                "SELECT line, product_id, message FROM reindex_bad_rows WHERE job_id = @jobId ORDER BY line LIMIT @limit",
                new { jobId, limit }, cancellationToken: ct));
            return rows.Select(r => new SourceRowError(r.Line, r.ProductId, r.Message)).ToList();
        }, ct);
    }
}
