using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Pipeline;

namespace Recommend.Indexing;

public sealed record ReindexProgress(
    ReindexJob Job, double RatePerSecond, double EtaSeconds, IReadOnlyList<SourceRowError> Errors);

public sealed record IndexVersionStatus(IndexVersion Version, long PointCount, SearchIndexStatus Search);

public sealed record IndexStatus(IndexVersionStatus? Live, IReadOnlyList<IndexVersionStatus> Previous, ReindexProgress? ActiveJob);

/// <summary>
/// Starts, watches, cancels and resumes re-indexing jobs, and reports and rolls back index versions. Jobs run in this
/// process in the background; their state lives in <see cref="IReindexJobStore"/>, so any replica can watch or cancel
/// them and a job whose runner died is taken over by <see cref="ResumeAbandonedAsync"/> once its lease expires.
/// </summary>
public sealed class ReindexService(
    IReindexJobStore jobs,
    IVectorIndex index,
    IEmbedderProvider embedders,
    Reindexer reindexer,
    ReindexPlanner planner,
    ReindexOptions options,
    TimeProvider time,
    ILogger<ReindexService> logger) : IAsyncDisposable
{
    private const int ReportedErrors = 100;
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly Lock _launchGate = new();

    /// <exception cref="InvalidRequestException">The source, dimension or tolerance is not acceptable; names the field.</exception>
    /// <exception cref="ReindexPreconditionException">The model is not loaded, or an incremental run has no live version to update.</exception>
    /// <exception cref="ReindexJobRunningException">Another job has not finished.</exception>
    public async Task<ReindexJob> StartAsync(ReindexRequest request, CancellationToken ct)
    {
        var job = await planner.PlanAsync(request, ct);
        job = job with { Run = job.Run with { Owner = options.Owner, LeaseExpiresAt = job.CreatedAt + options.LeaseDuration } };
        await jobs.CreateJobAsync(job, ct);
        Launch(job);
        return job;
    }

    /// <summary>What <paramref name="request"/> would add to and delete from the catalog; starts nothing.</summary>
    public Task<ReindexPreview> PreviewAsync(ReindexRequest request, CancellationToken ct) => planner.PreviewAsync(request, ct);

    /// <summary>Takes over an unfinished job whose runner's lease has expired (a crashed process); returns it, or null.</summary>
    public async Task<ReindexJob?> ResumeAbandonedAsync(CancellationToken ct)
    {
        if (await jobs.GetActiveJobAsync(ct) is not { } active || _running.ContainsKey(active.Id)) return null;
        var now = time.GetUtcNow();
        if (await jobs.TryClaimAsync(active.Unit, options.Owner, now, now + options.LeaseDuration, ct) is not { } run) return null;
        var claimed = active with { Run = run };
        logger.LogInformation("Resuming reindex job {JobId} at {Phase} after {Checkpoint}", claimed.Id, run.Phase, run.Checkpoint);
        Launch(claimed);
        return claimed;
    }

    /// <summary>Completes when the job's local run (if any) has ended.</summary>
    public Task WhenFinishedAsync(string jobId) => _running.GetValueOrDefault(jobId) ?? Task.CompletedTask;

    private void Launch(ReindexJob job)
    {
        lock (_launchGate)
        {
            if (_running.ContainsKey(job.Id)) return;
            _running[job.Id] = Task.Run(async () =>
            {
                try
                {
                    await reindexer.RunAsync(job, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    // Stopped with the host or taken over: the job resumes from its checkpoint.
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Reindex job {JobId} could not record its outcome; it resumes when its lease expires", job.Id);
                }
                finally
                {
                    _running.TryRemove(job.Id, out _);
                }
            });
        }
    }

    public async Task<ReindexProgress> GetProgressAsync(string jobId, CancellationToken ct) =>
        await ProgressOfAsync(await jobs.GetJobAsync(jobId, ct) ?? throw new ReindexJobNotFoundException(jobId), ct);

    /// <summary>Progress whenever it changes, ending with the message that carries a terminal state.</summary>
    public async IAsyncEnumerable<ReindexProgress> WatchAsync(string jobId, [EnumeratorCancellation] CancellationToken ct)
    {
        ReindexJob? last = null;
        while (true)
        {
            var job = await jobs.GetJobAsync(jobId, ct) ?? throw new ReindexJobNotFoundException(jobId);
            // Leases move on every heartbeat; only a change a watcher can see is news.
            if (last is null || job with { Run = job.Run with { LeaseExpiresAt = null } } != last with { Run = last.Run with { LeaseExpiresAt = null } })
                yield return await ProgressOfAsync(job, ct);
            if (job.IsTerminal) yield break;
            last = job;
            await Task.Delay(options.WatchInterval, time, ct);
        }
    }

    /// <summary>Flags the job for cancellation and waits a little for its runner to stop it; returns its progress then.</summary>
    public async Task<ReindexProgress> CancelAsync(string jobId, CancellationToken ct)
    {
        if (!await jobs.RequestCancelAsync(jobId, ct)) return await GetProgressAsync(jobId, ct);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(CancelWait);
        ReindexProgress progress = await GetProgressAsync(jobId, ct);
        try
        {
            await foreach (var update in WatchAsync(jobId, wait.Token)) progress = update;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Its runner is gone: the job is cancelled when a runner takes it over.
        }
        return progress;
    }

    /// <summary>Whether a re-index job is running or waiting to resume: one job-store read, for what polls it.</summary>
    public async Task<bool> IsReindexingAsync(CancellationToken ct) => await jobs.GetActiveJobAsync(ct) is not null;

    public async Task<IndexStatus> GetIndexStatusAsync(CancellationToken ct)
    {
        var versions = new List<IndexVersionStatus>();
        foreach (var version in await index.ListVersionsAsync(ct))
            versions.Add(new IndexVersionStatus(version, await index.CountAsync(version.Name, ct), await index.DescribeSearchAsync(version.Name, ct)));
        var active = await jobs.GetActiveJobAsync(ct);
        // A version being built is not one to roll back to.
        return new IndexStatus(
            versions.FirstOrDefault(v => v.Version.IsLive),
            versions.Where(v => !v.Version.IsLive && v.Version.Name != active?.TargetVersion).ToList(),
            active is null ? null : await ProgressOfAsync(active, ct));
    }

    /// <summary>Makes <paramref name="version"/> (or the newest version older than the live one) live again.</summary>
    public async Task<IndexStatus> RollbackAsync(string? version, CancellationToken ct)
    {
        if (await jobs.GetActiveJobAsync(ct) is { } active) throw new ReindexJobRunningException(active.Id);
        var versions = await index.ListVersionsAsync(ct);
        var live = versions.FirstOrDefault(v => v.IsLive);
        var target = string.IsNullOrEmpty(version)
            ? versions.FirstOrDefault(v => !v.IsLive && (live is null || v.CreatedAt < live.CreatedAt))
                ?? throw new ReindexPreconditionException("there is no previous index version to roll back to")
            : versions.FirstOrDefault(v => v.Name == version)
                ?? throw new ReindexPreconditionException($"index version {version} does not exist (kept: {string.Join(", ", versions.Select(v => v.Name))})");
        try
        {
            embedders.For(target.Spec);
        }
        catch (IndexSpecMismatchException e)
        {
            throw new ReindexPreconditionException($"version {target.Name} cannot be served: {e.Message}");
        }
        await index.SetLiveVersionAsync(target.Name, ct);
        return await GetIndexStatusAsync(ct);
    }

    private async Task<ReindexProgress> ProgressOfAsync(ReindexJob job, CancellationToken ct)
    {
        var errors = job.Run.Counters.BadRows > 0 ? await jobs.GetBadRowsAsync(job.Id, ReportedErrors, ct) : [];
        var elapsed = job.Run.StartedAt is { } started ? ((job.Run.FinishedAt ?? time.GetUtcNow()) - started).TotalSeconds : 0;
        var processed = job.Run.Counters.Processed;
        var rate = elapsed > 0 ? processed / elapsed : 0;
        var eta = rate > 0 && !job.IsTerminal ? Math.Max(0, job.Total - processed) / rate : 0;
        return new ReindexProgress(job, rate, eta, errors);
    }

    /// <summary>Stops local runs without marking them: they resume from their checkpoints on the next start. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_running.Values);
    }
}
