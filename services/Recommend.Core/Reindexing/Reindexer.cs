using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Vectors;

namespace Recommend.Core.Reindexing;

/// <summary>
/// Runs one claimed job to its end as a pipeline of three stages joined by bounded channels — read, validate and diff
/// against content hashes → embed (through the embedding cache) → write (store, index, then a durable checkpoint) — so
/// the embedder never waits on I/O and memory stays bounded. Batches are applied in source order and every applied
/// batch is checkpointed, so a run stopped at any point (process killed, <c>ct</c> cancelled) resumes where it left off
/// without re-embedding (cache) or duplicating (upserts by product id) anything.
/// </summary>
public sealed class Reindexer(
    IReindexJobStore jobs,
    ICatalogStore catalog,
    IVectorIndex index,
    IEmbedderProvider embedders,
    IEmbeddingCache cache,
    ReindexOptions options,
    TimeProvider time,
    ILogger<Reindexer> logger)
{
    private const int SweepPage = 500;
    private const double SampleScoreTolerance = 1e-4;

    /// <summary>
    /// Runs <paramref name="claimed"/> (owned by <see cref="ReindexOptions.Owner"/>) to a terminal state and returns it.
    /// When <paramref name="ct"/> is cancelled the job is left as it is, owned and resumable, as a crash would leave it.
    /// </summary>
    public Task<ReindexJob> RunAsync(ReindexJob claimed, CancellationToken ct) => RunAsync(new JobRun(claimed, shard: null), ct);

    /// <summary>
    /// Runs one claimed shard of a sharded job (its passes over the products it owns) to a terminal state and returns
    /// it; the job's verification and switch are left to whoever finds every shard done. A failed or cancelled shard
    /// ends the whole job. Stopping on <paramref name="ct"/> leaves the shard resumable.
    /// </summary>
    public async Task<ReindexShard> RunShardAsync(ReindexJob job, ReindexShard claimed, CancellationToken ct) =>
        ShardOf(await RunAsync(new JobRun(ViewOf(job, claimed), claimed.Index), ct), claimed.Index);

    /// <summary>A shard seen as a job, so one pipeline runs both: the job's identity, the shard's progress and lease.</summary>
    private static ReindexJob ViewOf(ReindexJob job, ReindexShard shard) => job with
    {
        State = shard.State, Phase = shard.Phase, Checkpoint = shard.Checkpoint, Processed = shard.Processed, Embedded = shard.Embedded,
        Cached = shard.Cached, Deleted = shard.Deleted, BadRows = shard.BadRows, Error = shard.Error, Owner = shard.Owner,
        LeaseExpiresAt = shard.LeaseExpiresAt,
    };

    private static ReindexShard ShardOf(ReindexJob view, int index) => new()
    {
        JobId = view.Id, Index = index, State = view.State, Phase = view.Phase, Checkpoint = view.Checkpoint, Processed = view.Processed,
        Embedded = view.Embedded, Cached = view.Cached, Deleted = view.Deleted, BadRows = view.BadRows, Error = view.Error,
        Owner = view.Owner, LeaseExpiresAt = view.LeaseExpiresAt,
    };

    private async Task<ReindexJob> RunAsync(JobRun run, CancellationToken ct)
    {
        var claimed = run.Job;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var heartbeat = HeartbeatAsync(run, stop);
        try
        {
            // Cancelled while no runner held it: a runner that takes it over only cleans up.
            run.CancelRequested = claimed.CancelRequested;
            if (run.CancelRequested) throw new OperationCanceledException("cancel requested");
            await ExecuteAsync(run, stop.Token);
            return await FinishAsync(run, ReindexState.Succeeded, error: null);
        }
        catch (Exception) when (ct.IsCancellationRequested || run.LeaseLost)
        {
            // Stopping, crashing, or another runner took the job over: its state is not ours to write.
            logger.LogWarning("Reindex job {JobId} stopped at {Phase} after {Checkpoint}; it resumes from there", run.Job.Id, run.Job.Phase, run.Job.Checkpoint);
            throw;
        }
        catch (Exception) when (run.CancelRequested)
        {
            return await AbandonAsync(run, ReindexState.Cancelled, "cancelled");
        }
        catch (Exception e)
        {
            logger.LogError(e, "Reindex job {JobId} failed", run.Job.Id);
            return await AbandonAsync(run, ReindexState.Failed, e.Message);
        }
        finally
        {
            await stop.CancelAsync();
            await heartbeat;
        }
    }

    private async Task ExecuteAsync(JobRun run, CancellationToken ct)
    {
        var job = run.Job;
        var source = ProductSource.Parse(job.Source);
        var target = job.TargetVersion ?? await ChooseTargetAsync(job, ct);
        var total = job.Total > 0 ? job.Total : await source.CountRowsAsync(catalog, ct);
        await SaveAsync(run, j => j with { State = ReindexState.Running, StartedAt = j.StartedAt ?? time.GetUtcNow(), TargetVersion = target, Total = total }, null, ct);

        var pass = new Pass(run, target, new InferenceCounter(embedders.For(job.Spec)), cache);
        var isFile = source is ProductSource.File;
        // The finisher of a sharded job only verifies and switches: the store lets it claim the job once every shard
        // has run the passes below.
        var passesDone = job.ShardCount > 0 && run.Shard is null;
        if (run.Job.Phase == ReindexPhase.Main && !passesDone)
        {
            await RunPassAsync(pass, OwnedRowsAsync(run, source.ReadAsync(catalog, run.Job.Checkpoint, ct), ct), new PassRules(Mark(run.Job, ReindexPhase.Main), WritesStore: isFile, UnhashedLeaveStore: false, CountsRows: true), ct);
            await SaveAsync(run, j => j with { Phase = j.Mode == ReindexMode.Full ? ReindexPhase.Reconcile : ReindexPhase.Sweep, Checkpoint = null }, null, ct);
        }
        if (run.Job.Phase == ReindexPhase.Reconcile && !passesDone)
        {
            // Catalog writes that raced the main pass are caught here; for a file source, products the file did not
            // list are not part of the catalog any more.
            await RunPassAsync(pass, OwnedRowsAsync(run, ProductSource.ReadStoreAsync(catalog, run.Job.Checkpoint, ct), ct), new PassRules(Mark(run.Job, ReindexPhase.Reconcile), WritesStore: false, UnhashedLeaveStore: isFile, CountsRows: false), ct);
            await SaveAsync(run, j => j with { Phase = ReindexPhase.Sweep, Checkpoint = null }, null, ct);
        }
        if (run.Job.Phase == ReindexPhase.Sweep && !passesDone)
        {
            var lastPass = run.Job.Mode == ReindexMode.Full ? ReindexPhase.Reconcile : ReindexPhase.Main;
            await SweepAsync(run, target, Mark(run.Job, lastPass), deleteFromStore: isFile && run.Job.Mode == ReindexMode.Incremental, ct);
            await SaveAsync(run, j => j with { Phase = ReindexPhase.Verify }, null, ct);
        }
        if (run.Shard is null && run.Job.Mode == ReindexMode.Full)
        {
            await SaveAsync(run, j => j with { State = ReindexState.Verifying }, null, ct);
            await VerifyAsync(pass, ct);
            await index.SetLiveVersionAsync(target, ct);
            await PruneAsync(target, ct);
        }
    }

    /// <summary>Rows of the products this run owns (all of them, unless it runs one shard); bad rows go by their id.</summary>
    private static async IAsyncEnumerable<SourceRow> OwnedRowsAsync(JobRun run, IAsyncEnumerable<SourceRow> rows, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in rows.WithCancellation(ct))
        {
            if (run.Owns(row.Product?.Id ?? row.Error?.ProductId ?? "")) yield return row;
        }
    }

    internal async Task<string> ChooseTargetAsync(ReindexJob job, CancellationToken ct)
    {
        if (job.Mode == ReindexMode.Incremental)
        {
            var live = await index.GetLiveVersionAsync(ct) ?? throw new ReindexPreconditionException("no live index version to update; run a full re-index first");
            if (live.Spec != job.Spec) throw new ReindexPreconditionException($"the live version {live.Name} holds {live.Spec.ModelId}/{live.Spec.Dimension}, not {job.Spec.ModelId}/{job.Spec.Dimension}");
            return live.Name;
        }
        var created = await index.CreateVersionAsync(job.Spec, ct);
        // A version name can come back after its predecessor was deleted: start its hashes from nothing.
        await jobs.DropContentHashesAsync(created.Name, ct);
        return created.Name;
    }

    private static string Mark(ReindexJob job, ReindexPhase phase) => $"{job.Id}/{phase}";

    /// <param name="Model">The model itself (counted). Cache lookups happen in the plan stage, so the embed stage only
    /// infers and stores what it inferred.</param>
    private sealed record Pass(JobRun Run, string Target, InferenceCounter Model, IEmbeddingCache Cache)
    {
        public IndexSpec Spec => Model.Info.Spec;
    }

    /// <param name="Mark">Tag for every product the pass sees.</param>
    /// <param name="WritesStore">File sources: changed products are written to the store too.</param>
    /// <param name="UnhashedLeaveStore">Reconciling a file source: store products the file did not list are deleted.</param>
    /// <param name="CountsRows">Whether rows count as source rows processed (the main pass) or as a follow-up.</param>
    private sealed record PassRules(string Mark, bool WritesStore, bool UnhashedLeaveStore, bool CountsRows);

    /// <param name="TextHashes">The embedding-cache key of each changed product's text, in the same order.</param>
    /// <param name="Cached">Vectors already in the embedding cache, by text hash.</param>
    private sealed record PlannedBatch(
        IReadOnlyList<Product> Changed, IReadOnlyList<string> TextHashes, IReadOnlyDictionary<string, float[]> Cached,
        IReadOnlyList<ContentHash> Seen, IReadOnlyList<string> LeavingStore, IReadOnlyList<SourceRowError> BadRows, int Rows,
        string LastPosition);

    /// <param name="Inferred">Texts that went through the model; the rest of the batch came from the cache.</param>
    private sealed record EmbeddedBatch(PlannedBatch Plan, IReadOnlyList<VectorRecord> Records, int Inferred);

    private async Task RunPassAsync(Pass pass, IAsyncEnumerable<SourceRow> rows, PassRules rules, CancellationToken ct)
    {
        var channelOptions = new BoundedChannelOptions(options.ChannelCapacity) { SingleReader = true, SingleWriter = true };
        var planned = Channel.CreateBounded<PlannedBatch>(channelOptions);
        var embedded = Channel.CreateBounded<EmbeddedBatch>(channelOptions);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The first stage to fail stops the others (a full channel would otherwise block its writer forever).
        await WhenAllOrFirstFailureAsync(
            RunStageAsync(e => planned.Writer.TryComplete(e), failed, token => PlanAsync(pass, rows, rules, planned.Writer, token)),
            RunStageAsync(e => embedded.Writer.TryComplete(e), failed, token => EmbedAsync(pass, planned.Reader, embedded.Writer, token)),
            RunStageAsync(_ => { }, failed, token => WriteAsync(pass, rules, embedded.Reader, token)));
    }

    private async Task PlanAsync(Pass pass, IAsyncEnumerable<SourceRow> rows, PassRules rules, ChannelWriter<PlannedBatch> output, CancellationToken ct)
    {
        var batch = new List<SourceRow>(options.BatchSize);
        await foreach (var row in rows.WithCancellation(ct))
        {
            batch.Add(row);
            if (batch.Count < options.BatchSize) continue;
            await output.WriteAsync(await PlanBatchAsync(pass, batch, rules, ct), ct);
            batch = new List<SourceRow>(options.BatchSize);
        }
        if (batch.Count > 0) await output.WriteAsync(await PlanBatchAsync(pass, batch, rules, ct), ct);
    }

    /// <summary>Only products whose content differs from what the target version holds go on to the embedder.</summary>
    private async Task<PlannedBatch> PlanBatchAsync(Pass pass, List<SourceRow> rows, PassRules rules, CancellationToken ct)
    {
        // A file may list an id twice: its last row wins, as a later upsert would.
        var products = rows.Where(r => r.Product is not null).Select(r => r.Product!)
            .GroupBy(p => p.Id, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var known = await jobs.GetContentHashesAsync(pass.Target, products.Select(p => p.Id).ToList(), ct);
        var changed = new List<Product>();
        var seen = new List<ContentHash>();
        var leaving = new List<string>();
        foreach (var product in products)
        {
            var hash = ContentFingerprint.Of(product);
            var stored = known.GetValueOrDefault(product.Id);
            if (stored is null && rules.UnhashedLeaveStore) { leaving.Add(product.Id); continue; }
            seen.Add(hash);
            if (stored != hash.Hash) changed.Add(product);
        }
        var badRows = rows.Where(r => r.Error is not null).Select(r => r.Error!).ToList();
        var textHashes = changed.Select(p => TextHash.Of(p.EmbeddingText)).ToList();
        var cached = textHashes.Count == 0
            ? new Dictionary<string, float[]>()
            : await cache.GetEmbeddingsAsync(pass.Spec, textHashes.Distinct().ToList(), ct);
        return new PlannedBatch(changed, textHashes, cached, seen, leaving, badRows, rows.Count, rows[^1].Position);
    }

    /// <summary>Each distinct text the cache lacks is embedded once and cached at once.</summary>
    private static async Task EmbedAsync(Pass pass, ChannelReader<PlannedBatch> input, ChannelWriter<EmbeddedBatch> output, CancellationToken ct)
    {
        await foreach (var batch in input.ReadAllAsync(ct))
        {
            var missing = new Dictionary<string, string>();
            for (var i = 0; i < batch.Changed.Count; i++)
            {
                if (!batch.Cached.ContainsKey(batch.TextHashes[i])) missing.TryAdd(batch.TextHashes[i], batch.Changed[i].EmbeddingText);
            }
            var fresh = missing.Count == 0
                ? []
                : missing.Keys.Zip(await pass.Model.EmbedDocumentsAsync(missing.Values.ToList(), ct), KeyValuePair.Create).ToList();
            // Cached as soon as they exist, not at the checkpoint: a run killed before this batch is written still
            // never pays for these inferences twice.
            if (fresh.Count > 0) await pass.Cache.PutEmbeddingsAsync(pass.Spec, fresh, ct);
            var vectors = fresh.ToDictionary();
            var records = batch.Changed
                .Select((p, i) => VectorRecord.For(p, batch.Cached.GetValueOrDefault(batch.TextHashes[i]) ?? vectors[batch.TextHashes[i]]))
                .ToList();
            await output.WriteAsync(new EmbeddedBatch(batch, records, fresh.Count), ct);
        }
    }

    private async Task WriteAsync(Pass pass, PassRules rules, ChannelReader<EmbeddedBatch> input, CancellationToken ct)
    {
        await foreach (var (plan, records, inferred) in input.ReadAllAsync(ct))
        {
            // The store is the catalog of record: it is written before the index, as catalog writes are.
            if (rules.WritesStore && plan.Changed.Count > 0) await catalog.UpsertProductsAsync(plan.Changed, ct);
            if (plan.LeavingStore.Count > 0) await catalog.DeleteProductsAsync(plan.LeavingStore, ct);
            if (records.Count > 0) await index.UpsertAsync(pass.Target, records, ct);
            var job = await SaveAsync(pass.Run, j => j with
            {
                Checkpoint = plan.LastPosition,
                Processed = j.Processed + (rules.CountsRows ? plan.Rows : 0),
                Embedded = j.Embedded + inferred,
                Cached = j.Cached + plan.Changed.Count - inferred,
                Deleted = j.Deleted + plan.LeavingStore.Count,
                BadRows = j.BadRows + plan.BadRows.Count,
            }, new JobBatch(pass.Target, rules.Mark, plan.Seen, plan.BadRows), ct);
            if (job.MaxBadRows >= 0 && job.BadRows > job.MaxBadRows)
            {
                var first = (await jobs.GetBadRowsAsync(job.Id, 1, ct)).FirstOrDefault();
                throw new InvalidDataException(
                    $"{job.BadRows} bad source rows exceed max_bad_rows {job.MaxBadRows}" + (first is null ? "" : $"; first at line {first.Line}: {first.Message}"));
            }
        }
    }

    /// <summary>Removes from the target the products the last pass did not see and the store no longer holds.</summary>
    private async Task SweepAsync(JobRun run, string target, string mark, bool deleteFromStore, CancellationToken ct)
    {
        string? after = null;
        while (await jobs.ListUnmarkedProductsAsync(target, mark, after, SweepPage, ct) is { Count: > 0 } page)
        {
            after = page[^1];
            // Other shards' products are theirs to sweep (and may simply not be reached yet).
            var unseen = page.Where(run.Owns).ToList();
            if (unseen.Count == 0) continue;
            // A product written to the store after the pass read past it is still in the catalog: keep it, and tag it
            // so the sweep moves on. (A file source is the whole catalog: what it does not list goes.)
            var kept = deleteFromStore ? [] : (await catalog.GetProductsAsync(unseen, ct)).Keys.ToHashSet(StringComparer.Ordinal);
            var vanished = unseen.Where(id => !kept.Contains(id)).ToList();
            var keptHashes = await jobs.GetContentHashesAsync(target, kept, ct);
            if (deleteFromStore) await catalog.DeleteProductsAsync(vanished, ct);
            await index.DeleteAsync(target, vanished, ct);
            await jobs.DeleteContentHashesAsync(target, vanished, ct);
            await SaveAsync(run, j => j with { Deleted = j.Deleted + vanished.Count },
                new JobBatch(target, mark, keptHashes.Select(p => new ContentHash(p.Key, p.Value)).ToList(), []), ct);
        }
    }

    /// <summary>A new version goes live only if it holds every product recorded for it and sample products find themselves.</summary>
    private async Task VerifyAsync(Pass pass, CancellationToken ct)
    {
        var expected = await jobs.CountContentHashesAsync(pass.Target, ct);
        var actual = await index.CountAsync(pass.Target, ct);
        if (actual != expected)
            throw new InvalidOperationException($"verification failed: version {pass.Target} holds {actual} vectors where the run wrote {expected}");

        var samples = new List<Product>();
        await foreach (var product in catalog.ScanProductsAsync(ct))
        {
            samples.Add(product);
            if (samples.Count == options.VerificationSamples) break;
        }
        if (samples.Count == 0) return;
        var vectors = await new CachingEmbedder(pass.Model, pass.Cache).EmbedDocumentsAsync(samples.Select(p => p.EmbeddingText).ToList(), ct);
        for (var i = 0; i < samples.Count; i++)
        {
            var hits = await index.SearchAsync(pass.Target, new VectorQuery(vectors[i], 10, ProductFilter.None), ct);
            // Products with identical content tie at the top score; any of them is a correct first answer.
            if (!hits.Any(h => h.ProductId == samples[i].Id && h.Score >= hits[0].Score - SampleScoreTolerance))
                throw new InvalidOperationException($"verification failed: product {samples[i].Id} does not find itself in version {pass.Target}");
        }
    }

    private async Task PruneAsync(string live, CancellationToken ct)
    {
        var stale = (await index.ListVersionsAsync(ct)).Where(v => v.Name != live).Skip(options.KeepPreviousVersions);
        foreach (var version in stale)
        {
            try
            {
                await index.DeleteVersionAsync(version.Name, ct);
                await jobs.DropContentHashesAsync(version.Name, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The switch already happened; an old version left behind is only disk space.
                logger.LogWarning(e, "Could not delete old index version {Version}", version.Name);
            }
        }
    }

    private async Task<ReindexJob> FinishAsync(JobRun run, ReindexState state, string? error) =>
        await SaveAsync(run, j => j with { State = state, Error = error, FinishedAt = time.GetUtcNow() }, null, CancellationToken.None);

    /// <summary>A failed or cancelled full run never went live: its half-built version is deleted.</summary>
    private async Task<ReindexJob> AbandonAsync(JobRun run, ReindexState state, string error)
    {
        var job = run.Job;
        // Ending the job first stops the other shards (at their next heartbeat) before their version goes away.
        if (run.Shard is { } shard) await jobs.EndJobAsync(job.Id, state, $"shard {shard}: {error}", time.GetUtcNow(), CancellationToken.None);
        if (job is { Mode: ReindexMode.Full, TargetVersion: { } target })
        {
            try
            {
                var live = await index.GetLiveVersionAsync(CancellationToken.None);
                if (live?.Name != target)
                {
                    await index.DeleteVersionAsync(target, CancellationToken.None);
                    await jobs.DropContentHashesAsync(target, CancellationToken.None);
                }
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not delete the unfinished index version {Version} of job {JobId}", target, job.Id);
            }
        }
        return await FinishAsync(run, state, error);
    }

    private async Task<ReindexJob> SaveAsync(JobRun run, Func<ReindexJob, ReindexJob> change, JobBatch? batch, CancellationToken ct)
    {
        var next = change(run.Job) with { LeaseExpiresAt = time.GetUtcNow() + options.LeaseDuration };
        var saved = run.Shard is { } shard
            ? await jobs.SaveShardAsync(ShardOf(next, shard), batch, ct)
            : await jobs.SaveJobAsync(next, batch, ct);
        if (!saved)
        {
            run.LeaseLost = true;
            throw new OperationCanceledException($"reindex job {next.Id} is now run by another owner");
        }
        run.Job = next;
        return next;
    }

    private async Task HeartbeatAsync(JobRun run, CancellationTokenSource stop)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                try
                {
                    var until = time.GetUtcNow() + options.LeaseDuration;
                    var status = run.Shard is { } shard
                        ? await jobs.RenewShardLeaseAsync(run.Job.Id, shard, options.Owner, until, stop.Token)
                        : await jobs.RenewLeaseAsync(run.Job.Id, options.Owner, until, stop.Token);
                    if (status is { CancelRequested: false }) continue;
                    if (status is null) run.LeaseLost = true;
                    else run.CancelRequested = true;
                    await stop.CancelAsync();
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A store hiccup: the lease has slack for several missed beats.
                    logger.LogWarning(e, "Could not renew the lease of reindex job {JobId}", run.Job.Id);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the run ended
        }
    }

    /// <summary>Runs a stage, then completes its output channel (with the failure, if any, so the next stage sees it).</summary>
    private static async Task RunStageAsync(Action<Exception?> completeOutput, CancellationTokenSource failed, Func<CancellationToken, Task> stage)
    {
        try
        {
            await stage(failed.Token);
            completeOutput(null);
        }
        catch (Exception e)
        {
            completeOutput(e);
            await failed.CancelAsync();
            throw;
        }
    }

    /// <summary>Awaits every stage, then rethrows the failure that started it rather than the cancellations it caused.</summary>
    private static async Task WhenAllOrFirstFailureAsync(params Task[] stages)
    {
        try
        {
            await Task.WhenAll(stages);
        }
        catch
        {
            var failures = stages.Select(s => s.Exception?.InnerException).OfType<Exception>().ToList();
            var cause = failures.FirstOrDefault(e => e is not OperationCanceledException) ?? failures.FirstOrDefault();
            if (cause is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            throw;
        }
    }

    /// <summary>The job (or the shard, seen as a job) as this run last saved it, and what the heartbeat learned.</summary>
    private sealed class JobRun(ReindexJob job, int? shard)
    {
        public ReindexJob Job { get; set; } = job;
        /// <summary>The shard this run is, or null for a whole job.</summary>
        public int? Shard { get; } = shard;

        public bool Owns(string productId) => Shard is not { } index || ShardKey.Of(productId, Job.ShardCount) == index;

        public volatile bool CancelRequested;
        public volatile bool LeaseLost;
    }

    /// <summary>Counts texts that reach the model, i.e. cache misses: the "embedded" half of embedded vs cached.</summary>
    private sealed class InferenceCounter(IEmbedder model) : IEmbedder
    {
        private long _texts;

        public long Texts => Interlocked.Read(ref _texts);

        public EmbedderInfo Info => model.Info;

        public async Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct)
        {
            var vectors = await model.EmbedDocumentsAsync(texts, ct);
            Interlocked.Add(ref _texts, texts.Count);
            return vectors;
        }

        public Task<float[]> EmbedQueryAsync(string query, CancellationToken ct) => model.EmbedQueryAsync(query, ct);
    }
}
