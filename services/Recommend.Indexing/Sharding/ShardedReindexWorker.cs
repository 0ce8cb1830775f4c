using Microsoft.Extensions.Logging;
using Recommend.Core.Catalog;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Pipeline;
using Recommend.Indexing.Sources;

namespace Recommend.Indexing.Sharding;

/// <summary>What one worker of a sharded re-index is asked to do.</summary>
/// <param name="JobId">Shared by the workers of one run (e.g. the Kubernetes Job's uid), so a worker restarted after the
/// job ended finds it instead of starting another; null = join whichever sharded job is unfinished.</param>
public sealed record ShardAssignment(ReindexRequest Request, int ShardIndex, int ShardCount, string? JobId = null)
{
    public void Validate()
    {
        if (ShardCount < 1) throw new ArgumentOutOfRangeException(nameof(ShardCount), ShardCount, "shard count must be at least 1");
        if (ShardIndex < 0 || ShardIndex >= ShardCount)
            throw new ArgumentOutOfRangeException(nameof(ShardIndex), ShardIndex, $"shard index must be in [0, {ShardCount})");
    }
}

/// <summary>
/// One of N offline workers that re-index the catalog together as ONE job, coordinating only through
/// <see cref="IReindexJobStore"/>: the first to arrive creates the job (with its target version), the others join it;
/// each runs its shard (resumable from the shard's own checkpoint); whoever finds every shard done verifies and
/// switches, once. Every worker waits for the job's outcome, so each exits with the job's result.
/// </summary>
public sealed class ShardedReindexWorker(
    IReindexJobStore jobs,
    ICatalogStore catalog,
    Reindexer reindexer,
    ReindexPlanner planner,
    ReindexOptions options,
    TimeProvider time,
    ILogger<ShardedReindexWorker> logger)
{
    /// <summary>The job this worker's assignment belongs to: found, joined or created (with its target version).</summary>
    /// <exception cref="ReindexJobRunningException">Another, unsharded job (or one sharded differently) has not finished.</exception>
    public async Task<ReindexJob> JoinAsync(ShardAssignment work, CancellationToken ct)
    {
        work.Validate();
        if (work.JobId is not null && await jobs.GetJobAsync(work.JobId, ct) is { } existing) return existing;
        if (await jobs.GetActiveJobAsync(ct) is { } active)
        {
            if (active.ShardCount == work.ShardCount) return active;
            throw new ReindexJobRunningException(active.Id);
        }

        var planned = await planner.PlanAsync(work.Request, ct);
        var proposed = planned with
        {
            Id = work.JobId ?? planned.Id,
            ShardCount = work.ShardCount,
            Total = await ProductSource.Parse(planned.Source).CountRowsAsync(catalog, ct),
            Run = planned.Run with { State = ReindexState.Running, StartedAt = planned.CreatedAt },
        };
        proposed = proposed with { TargetVersion = await reindexer.Versions.ChooseTargetAsync(proposed, ct) };

        var joined = await jobs.CreateOrJoinShardedJobAsync(proposed, ct);
        if (joined.TargetVersion != proposed.TargetVersion && proposed.Mode == ReindexMode.Full)
        {
            // Another worker created the job first: the version made for it here is not needed.
            await reindexer.Versions.DeleteAsync(proposed.TargetVersion!, ct);
        }
        return joined;
    }

    /// <summary>Runs (or resumes) shard <paramref name="shardIndex"/> of <paramref name="job"/>, then waits for the job to end, finishing it if this worker finds every shard done.</summary>
    public async Task<ReindexJob> RunAsync(ReindexJob job, int shardIndex, CancellationToken ct)
    {
        if (await ClaimShardAsync(job.Id, shardIndex, ct) is { Run.State: ReindexState.Pending or ReindexState.Running } shard)
        {
            try
            {
                var ran = await reindexer.RunShardAsync(job, shard, ct);
                logger.LogInformation("Shard {Shard} of reindex job {JobId} ended {State}", shardIndex, job.Id, ran.Run.State);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The job ended meanwhile (another shard failed, or it was cancelled): its outcome is read below.
            }
        }
        return await AwaitOutcomeAsync(job.Id, ct);
    }

    private async Task<ReindexShard?> ClaimShardAsync(string jobId, int shardIndex, CancellationToken ct)
    {
        while (true)
        {
            var now = time.GetUtcNow();
            if (await jobs.TryClaimAsync(new WorkUnit(jobId, shardIndex), options.Owner, now, now + options.LeaseDuration, ct) is { } run)
                return new ReindexShard(jobId, shardIndex, run);
            if ((await jobs.GetJobAsync(jobId, ct))?.IsTerminal != false) return null;
            // Held by a runner that may have died (this pod before a restart): it is ours once its lease runs out.
            await Task.Delay(options.HeartbeatInterval, time, ct);
        }
    }

    /// <summary>Waits for the job to end; claims and finishes it (verify, switch, prune) when every shard is done and no one else is.</summary>
    private async Task<ReindexJob> AwaitOutcomeAsync(string jobId, CancellationToken ct)
    {
        while (true)
        {
            var job = await jobs.GetJobAsync(jobId, ct) ?? throw new ReindexJobNotFoundException(jobId);
            if (job.IsTerminal) return job;
            var now = time.GetUtcNow();
            if (await jobs.TryClaimAsync(job.Unit, options.Owner, now, now + options.LeaseDuration, ct) is { } run)
            {
                try
                {
                    return await reindexer.RunAsync(job with { Run = run }, ct);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Lost the lease to another finisher: wait for its outcome.
                }
            }
            await Task.Delay(options.HeartbeatInterval, time, ct);
        }
    }
}
