using Dapper;
using Npgsql;
using Recommend.Indexing.Jobs;
using Recommend.Sql;
using static Recommend.Sql.ReindexRows;

namespace Recommend.Postgres;

public sealed partial class PostgresStore : IReindexJobStore
{
    /// <summary>Serialises sharded workers deciding whether to create or join a job (transaction-scoped advisory lock).</summary>
    private const long ShardedJobLockKey = 0x7265696e646578; // "reindex"

    /// <summary>A unit whose lease <c>@owner</c> may take: its own, never taken, or expired before <c>@now</c>.</summary>
    private const string LeaseFree = "(owner = @owner or owner is null or lease_expires_at is null or lease_expires_at < @now)";

    private static readonly string SelectActiveJob = $"select {JobColumns} from reindex_jobs where state in {ActiveStates}";

    public Task CreateJobAsync(ReindexJob job, CancellationToken ct) =>
        RunAsync(async connection =>
        {
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(InsertJob, JobRow.From(job), cancellationToken: ct));
            }
            catch (PostgresException e) when (e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "reindex_jobs_one_active" })
            {
                // The partial unique index is the rule; the active job is read only to name it.
                var active = await QueryJobAsync(connection, SelectActiveJob, null, ct);
                throw new ReindexJobRunningException(active?.Id ?? "(finished meanwhile; retry)");
            }
        }, ct);

    public Task<ReindexJob> CreateOrJoinShardedJobAsync(ReindexJob job, CancellationToken ct) =>
        RunAsync(async connection =>
        {
            var row = JobRow.From(job);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // Plain job starts are kept out by the partial unique index; workers are serialised by the lock.
            await connection.ExecuteAsync(new CommandDefinition(
                "select pg_advisory_xact_lock(@key)", new { key = ShardedJobLockKey }, transaction, cancellationToken: ct));
            var existing = await connection.QueryFirstOrDefaultAsync<JobRow>(new CommandDefinition(
                    $"select {JobColumns} from reindex_jobs where id = @Id", row, transaction, cancellationToken: ct))
                ?? await connection.QueryFirstOrDefaultAsync<JobRow>(new CommandDefinition(
                    SelectActiveJob, null, transaction, cancellationToken: ct));
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
            return row.ToJob();
        }, ct);

    public Task<ReindexJob?> GetJobAsync(string jobId, CancellationToken ct) =>
        RunAsync(connection => QueryJobAsync(connection, $"select {JobColumns} from reindex_jobs where id = @jobId", new { jobId }, ct), ct);

    public Task<ReindexJob?> GetActiveJobAsync(CancellationToken ct) =>
        RunAsync(connection => QueryJobAsync(connection, SelectActiveJob, null, ct), ct);

    private static async Task<ReindexJob?> QueryJobAsync(NpgsqlConnection connection, string sql, object? parameters, CancellationToken ct)
    {
        var row = await connection.QueryFirstOrDefaultAsync<JobRow>(new CommandDefinition(sql, parameters, cancellationToken: ct));
        return row?.ToJob();
    }

    public async Task<IReadOnlyList<ReindexShard>> GetShardsAsync(string jobId, CancellationToken ct)
    {
        var rows = await RunAsync(connection => connection.QueryAsync<ShardRow>(new CommandDefinition(
            $"select {ShardColumns} from reindex_shards where job_id = @jobId order by shard_index", new { jobId }, cancellationToken: ct)), ct);
        return rows.Select(r => r.ToShard()).ToList();
    }

    public async Task<RunState?> TryClaimAsync(WorkUnit unit, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var parameters = new { unit.JobId, unit.Shard, owner, now = now.ToUnixTimeMilliseconds(), until = leaseUntil.ToUnixTimeMilliseconds() };
        var sql = unit.Shard is null
            // A job is claimable only once every shard it has succeeded (a plain job has none).
            ? $"""
              update reindex_jobs set owner = @owner, lease_expires_at = @until
              where id = @JobId and state in {ActiveStates} and {LeaseFree}
                  and not exists (select 1 from reindex_shards s where s.job_id = reindex_jobs.id and s.state <> {Succeeded})
              returning {RunColumns}
              """
            // One statement: the claim if the job is unfinished and the lease free; else the shard as it is if it ended.
            : $"""
              with job as (select 1 from reindex_jobs where id = @JobId and state in {ActiveStates}),
              claimed as (
                  update reindex_shards set owner = @owner, lease_expires_at = @until
                  where job_id = @JobId and shard_index = @Shard and state in {ClaimableShardStates} and exists (select 1 from job)
                      and {LeaseFree}
                  returning {RunColumns})
              select * from claimed
              union all
              select {RunColumns} from reindex_shards
              where job_id = @JobId and shard_index = @Shard and state not in {ClaimableShardStates} and exists (select 1 from job)
              """;
        var row = await RunAsync(connection => connection.QueryFirstOrDefaultAsync<RunRow>(
            new CommandDefinition(sql, parameters, cancellationToken: ct)), ct);
        return row?.ToRunState();
    }

    public async Task<LeaseStatus?> RenewLeaseAsync(WorkUnit unit, string owner, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var parameters = new { unit.JobId, unit.Shard, owner, until = leaseUntil.ToUnixTimeMilliseconds() };
        var sql = unit.Shard is null
            ? $"""
              update reindex_jobs set lease_expires_at = @until
              where id = @JobId and owner = @owner and state in {ActiveStates}
              returning cancel_requested
              """
            : $"""
              update reindex_shards s set lease_expires_at = @until
              from reindex_jobs j
              where s.job_id = @JobId and s.shard_index = @Shard and s.owner = @owner and j.id = s.job_id and j.state in {ActiveStates}
              returning j.cancel_requested
              """;
        var cancelRequested = await RunAsync(connection => connection.QueryFirstOrDefaultAsync<bool?>(
            new CommandDefinition(sql, parameters, cancellationToken: ct)), ct);
        return cancelRequested is { } requested ? new LeaseStatus(requested) : null;
    }

    public Task<bool> SaveRunAsync(WorkUnit unit, RunState run, JobBatch? batch, CancellationToken ct)
    {
        var parameters = new DynamicParameters(RunRow.From(run));
        parameters.AddDynamicParams(new { unit.JobId, unit.Shard });
        // Fenced by owner alone: a shard's final state is saved even after its job ended (its failure may have ended it).
        var sql = unit.Shard is null
            ? $"update reindex_jobs set {SetRunColumns} where id = @JobId and owner = @Owner"
            : $"update reindex_shards set {SetRunColumns} where job_id = @JobId and shard_index = @Shard and owner = @Owner";
        return RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            if (await connection.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: ct)) == 0) return false;
            if (unit.Shard is not null)
            {
                // A sharded job's counters are the sum of its shards'.
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    update reindex_jobs j set processed = s.processed, embedded = s.embedded, cached = s.cached, deleted = s.deleted, bad_rows = s.bad_rows
                    from (select sum(processed) as processed, sum(embedded) as embedded, sum(cached) as cached, sum(deleted) as deleted,
                            sum(bad_rows) as bad_rows
                          from reindex_shards where job_id = @JobId) s
                    where j.id = @JobId
                    """, new { unit.JobId }, transaction, cancellationToken: ct));
            }
            if (batch is not null) await WriteBatchAsync(connection, transaction, unit.JobId, batch, ct);
            await transaction.CommitAsync(ct);
            return true;
        }, ct);
    }

    public Task<bool> SetTargetAsync(string jobId, string owner, string targetVersion, long total, CancellationToken ct) =>
        RunAsync(async connection => await connection.ExecuteAsync(new CommandDefinition(
            "update reindex_jobs set target_version = @targetVersion, total = @total where id = @jobId and owner = @owner",
            new { jobId, owner, targetVersion, total }, cancellationToken: ct)) > 0, ct);

    /// <summary>A batch's content hashes (tagged with the pass's mark) and bad rows, in the caller's transaction.</summary>
    private static async Task WriteBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string jobId, JobBatch batch, CancellationToken ct)
    {
        await UpsertHashesAsync(connection, transaction, batch.Version, batch.Seen, batch.Mark, ct);
        if (batch.BadRows.Count == 0) return;
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

    public Task<bool> EndJobAsync(string jobId, ReindexState state, string error, DateTimeOffset finishedAt, CancellationToken ct) =>
        RunAsync(async connection => await connection.ExecuteAsync(new CommandDefinition(
            $"update reindex_jobs set state = @state, error = @error, finished_at = @at where id = @jobId and state in {ActiveStates}",
            new { jobId, state = (int)state, error, at = finishedAt.ToUnixTimeMilliseconds() }, cancellationToken: ct)) > 0, ct);

    public Task<bool> RequestCancelAsync(string jobId, CancellationToken ct) =>
        RunAsync(async connection => await connection.ExecuteAsync(new CommandDefinition(
            $"update reindex_jobs set cancel_requested = true where id = @jobId and state in {ActiveStates}",
            new { jobId }, cancellationToken: ct)) > 0, ct);

    public async Task<IReadOnlyList<SourceRowError>> GetBadRowsAsync(string jobId, int limit, CancellationToken ct)
    {
        var rows = await RunAsync(connection => connection.QueryAsync<(long Line, string ProductId, string Message)>(new CommandDefinition(
            "select line, product_id, message from reindex_bad_rows where job_id = @jobId order by line limit @limit",
            new { jobId, limit }, cancellationToken: ct)), ct);
        return rows.Select(r => new SourceRowError(r.Line, r.ProductId, r.Message)).ToList();
    }
}
