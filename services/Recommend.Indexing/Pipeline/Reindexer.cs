using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Sources;

namespace Recommend.Indexing.Pipeline;

/// <summary>
/// Runs one claimed unit — a whole job, or one shard of a sharded job — to its end through its phases: main pass over
/// the source, reconcile pass over the store (full runs), sweep of what no pass saw, then (whole full jobs) verify and
/// switch. Every phase resumes from the unit's checkpoint, so a run stopped at any point picks up where it left off.
/// Built once per process (see <c>AddReindexing</c>); runs share nothing but their dependencies.
/// </summary>
public sealed class Reindexer
{
    private const int SweepPage = 500;

    private readonly IReindexJobStore _jobs;
    private readonly ICatalogStore _catalog;
    private readonly IVectorIndex _index;
    private readonly IContentHashLedger _ledger;
    private readonly IEmbedderProvider _embedders;
    private readonly ReindexOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BatchPipeline _pipeline;
    private readonly VersionGate _versions;

    public Reindexer(IReindexJobStore jobs, ICatalogStore catalog, IVectorIndex index, IContentHashLedger ledger, IEmbedderProvider embedders,
        IEmbeddingCache cache, ReindexOptions options, TimeProvider time, ILogger<Reindexer> logger)
    {
        (_jobs, _catalog, _index, _ledger, _embedders, _options, _time, _logger) = (jobs, catalog, index, ledger, embedders, options, time, logger);
        _pipeline = new BatchPipeline(jobs, catalog, index, ledger, cache, options);
        _versions = new VersionGate(index, ledger, catalog, cache, options, logger);
    }

    /// <summary>Target choice, switch and removal of versions, which sharded workers share with the runs.</summary>
    internal VersionGate Versions => _versions;

    /// <summary>
    /// Runs <paramref name="claimed"/> (owned by <see cref="ReindexOptions.Owner"/>) to a terminal state and returns it.
    /// When <paramref name="ct"/> is cancelled the job is left as it is, owned and resumable, as a crash would leave it.
    /// </summary>
    public async Task<ReindexJob> RunAsync(ReindexJob claimed, CancellationToken ct)
    {
        var (job, run) = await RunUnitAsync(claimed, claimed.Unit, claimed.Run, ct);
        return job with { Run = run };
    }

    /// <summary>
    /// Runs one claimed shard of a sharded job (its passes over the products it owns) to a terminal state and returns
    /// it; the job's verification and switch are left to whoever finds every shard done. A failed or cancelled shard
    /// ends the whole job. Stopping on <paramref name="ct"/> leaves the shard resumable.
    /// </summary>
    public async Task<ReindexShard> RunShardAsync(ReindexJob job, ReindexShard claimed, CancellationToken ct) =>
        claimed with { Run = (await RunUnitAsync(job, claimed.Unit, claimed.Run, ct)).Run };

    private async Task<(ReindexJob Job, RunState Run)> RunUnitAsync(ReindexJob job, WorkUnit unit, RunState claimed, CancellationToken ct)
    {
        // Cancelled while no runner held it: a runner that takes it over only cleans up.
        await using var lease = new LeaseKeeper(_jobs, _options, _time, _logger, unit, claimed, job.CancelRequested, ct);
        var run = new RunContext(job, lease);
        try
        {
            if (lease.CancelRequested) throw new OperationCanceledException("cancel requested");
            await ExecuteAsync(run, lease.Stopping);
            return (run.Job, await lease.EndAsync(ReindexState.Succeeded, error: null));
        }
        catch (Exception e) when (ct.IsCancellationRequested || lease.LeaseLost)
        {
            // Stopping, crashing, or another runner took the unit over (or its job ended): its state is not ours to write.
            _logger.LogWarning("Reindex {Unit} stopped at {Phase} after {Checkpoint}; it resumes from there", unit, lease.Run.Phase, lease.Run.Checkpoint);
            // Whatever failed once the lease was gone (e.g. a write to the version a failed shard's job just deleted) is a
            // consequence of that, and callers see it as the stop it is.
            if (e is OperationCanceledException) throw;
            throw new OperationCanceledException($"reindex {unit} stopped: its lease is gone", e);
        }
        catch (Exception) when (lease.CancelRequested)
        {
            return (run.Job, await AbandonAsync(run, ReindexState.Cancelled, "cancelled"));
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Reindex {Unit} failed", unit);
            return (run.Job, await AbandonAsync(run, ReindexState.Failed, ClientMessage(e)));
        }
    }

    /// <summary>
    /// The job's error as clients read it: the service's own messages as they are; for anything else (file system,
    /// driver, runtime) a short description, because their text can carry server paths and addresses. The log has all.
    /// </summary>
    private static string ClientMessage(Exception e) => e switch
    {
        RecommendException or InvalidDataException => e.Message,
        CsvHelper.CsvHelperException csv => $"the CSV file is malformed near line {csv.Context?.Parser?.RawRow}",
        FileNotFoundException or DirectoryNotFoundException => "the source file is gone",
        UnauthorizedAccessException => "the server may not read the source file",
        IOException => "the source file could not be read",
        _ => "the re-index failed; see the server log",
    };

    private async Task ExecuteAsync(RunContext run, CancellationToken ct)
    {
        var source = ProductSource.Parse(run.Job.Source);
        if (run.Job.TargetVersion is null)
        {
            var target = await _versions.ChooseTargetAsync(run.Job, ct);
            var total = await source.CountRowsAsync(_catalog, ct);
            await run.Lease.SetTargetAsync(target, total, ct);
            run.Job = run.Job with { TargetVersion = target, Total = total };
        }
        var lease = run.Lease;
        await lease.SaveAsync(r => r with { State = ReindexState.Running, StartedAt = r.StartedAt ?? _time.GetUtcNow() }, null, ct);

        var targetVersion = run.Job.TargetVersion!;
        var model = _embedders.For(run.Job.Spec);
        var fromFile = source is ProductSource.File;
        // The finisher of a sharded job only verifies and switches: the store lets it claim the job once every shard
        // has run the passes below.
        var passesDone = run.Job.ShardCount > 0 && run.Shard is null;
        if (lease.Run.Phase == ReindexPhase.Main && !passesDone)
        {
            var rows = OwnedRowsAsync(run, source.ReadAsync(_catalog, lease.Run.Checkpoint, ct), ct);
            await _pipeline.RunAsync(new BatchPipeline.Pass(run, targetVersion, model, PassKind.Main(Mark(run, ReindexPhase.Main), fromFile)), rows, ct);
            await lease.SaveAsync(r => r with { Phase = run.Job.Mode == ReindexMode.Full ? ReindexPhase.Reconcile : ReindexPhase.Sweep, Checkpoint = null }, null, ct);
        }
        if (lease.Run.Phase == ReindexPhase.Reconcile && !passesDone)
        {
            // Catalog writes that raced the main pass are caught here; for a file source, products the file did not
            // list are not part of the catalog any more.
            var rows = OwnedRowsAsync(run, ProductSource.ReadStoreAsync(_catalog, lease.Run.Checkpoint, ct), ct);
            await _pipeline.RunAsync(new BatchPipeline.Pass(run, targetVersion, model, PassKind.Reconcile(Mark(run, ReindexPhase.Reconcile), fromFile)), rows, ct);
            await lease.SaveAsync(r => r with { Phase = ReindexPhase.Sweep, Checkpoint = null }, null, ct);
        }
        if (lease.Run.Phase == ReindexPhase.Sweep && !passesDone)
        {
            var lastPass = run.Job.Mode == ReindexMode.Full ? ReindexPhase.Reconcile : ReindexPhase.Main;
            await SweepAsync(run, targetVersion, Mark(run, lastPass), deleteFromStore: fromFile && run.Job.Mode == ReindexMode.Incremental, ct);
            await lease.SaveAsync(r => r with { Phase = ReindexPhase.Verify }, null, ct);
        }
        if (run.Shard is null && run.Job.Mode == ReindexMode.Full)
        {
            await lease.SaveAsync(r => r with { State = ReindexState.Verifying }, null, ct);
            await _versions.SwitchAsync(targetVersion, model, ct);
        }
    }

    private static string Mark(RunContext run, ReindexPhase phase) => $"{run.Job.Id}/{phase}";

    /// <summary>Rows of the products this run owns (all of them, unless it runs one shard); bad rows go by their id.</summary>
    private static async IAsyncEnumerable<SourceRow> OwnedRowsAsync(RunContext run, IAsyncEnumerable<SourceRow> rows, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in rows.WithCancellation(ct))
        {
            if (run.Owns(row.ProductId)) yield return row;
        }
    }

    /// <summary>Removes from the target the products the last pass did not see and the store no longer holds.</summary>
    private async Task SweepAsync(RunContext run, string target, string mark, bool deleteFromStore, CancellationToken ct)
    {
        string? after = null;
        while (await _ledger.ListUnmarkedProductsAsync(target, mark, after, SweepPage, ct) is { Count: > 0 } page)
        {
            after = page[^1];
            // Other shards' products are theirs to sweep (and may simply not be reached yet).
            var unseen = page.Where(run.Owns).ToList();
            if (unseen.Count == 0) continue;
            // A product written to the store after the pass read past it is still in the catalog: keep it, and tag it
            // so the sweep moves on. (A file source is the whole catalog: what it does not list goes.)
            var kept = deleteFromStore ? [] : (await _catalog.GetProductsAsync(unseen, ct)).Keys.ToHashSet(StringComparer.Ordinal);
            var vanished = unseen.Where(id => !kept.Contains(id)).ToList();
            var keptHashes = await _ledger.GetContentHashesAsync(target, kept, ct);
            if (deleteFromStore) await _catalog.DeleteProductsAsync(vanished, ct);
            await _index.DeleteAsync(target, vanished, ct);
            await _ledger.DeleteContentHashesAsync(target, vanished, ct);
            await run.Lease.SaveAsync(r => r with { Counters = r.Counters + new RunCounters(0, 0, 0, vanished.Count, 0) },
                new JobBatch(target, mark, keptHashes.Select(p => new ContentHash(p.Key, p.Value)).ToList(), []), ct);
        }
    }

    /// <summary>Ends the unit (a shard ends its whole job first) and deletes a full run's half-built version.</summary>
    private async Task<RunState> AbandonAsync(RunContext run, ReindexState state, string error)
    {
        // Ending the job first stops the other shards (at their next heartbeat) before their version goes away.
        if (run.Shard is { } shard) await _jobs.EndJobAsync(run.Job.Id, state, $"shard {shard}: {error}", _time.GetUtcNow(), CancellationToken.None);
        await _versions.DiscardAsync(run.Job);
        return await run.Lease.EndAsync(state, error);
    }
}
