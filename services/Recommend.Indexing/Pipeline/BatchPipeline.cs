using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Sources;

namespace Recommend.Indexing.Pipeline;

/// <summary>
/// One pass over source rows as three stages joined by bounded channels — plan (validate, diff against the target's
/// content hashes, look up the embedding cache) → embed (only what the cache lacks) → write (store, index, then a
/// durable checkpoint) — so the embedder never waits on I/O and memory stays bounded. Batches are applied in source
/// order and every applied batch is checkpointed, so a pass stopped at any point resumes where it left off without
/// re-embedding (cache) or duplicating (upserts by product id) anything.
/// </summary>
internal sealed class BatchPipeline(
    IReindexJobStore jobs, ICatalogStore catalog, IVectorIndex index, IContentHashLedger ledger, IEmbeddingCache cache, ReindexOptions options)
{
    /// <param name="Model">The model itself: cache lookups happen in the plan stage, so the embed stage only infers.</param>
    public sealed record Pass(RunContext Run, string Target, IEmbedder Model, PassKind Kind)
    {
        public IndexSpec Spec => Model.Info.Spec;
    }

    /// <param name="TextHashes">The embedding-cache key of each changed product's text, in the same order.</param>
    /// <param name="Cached">Vectors already in the embedding cache, by text hash.</param>
    private sealed record PlannedBatch(
        IReadOnlyList<Product> Changed, IReadOnlyList<string> TextHashes, IReadOnlyDictionary<string, float[]> Cached,
        IReadOnlyList<ContentHash> Seen, IReadOnlyList<string> LeavingStore, IReadOnlyList<SourceRowError> BadRows, int Rows,
        string LastPosition);

    /// <param name="Inferred">Texts that went through the model; the rest of the batch came from the cache.</param>
    private sealed record EmbeddedBatch(PlannedBatch Plan, IReadOnlyList<VectorRecord> Records, int Inferred);

    public async Task RunAsync(Pass pass, IAsyncEnumerable<SourceRow> rows, CancellationToken ct)
    {
        var channelOptions = new BoundedChannelOptions(options.ChannelCapacity) { SingleReader = true, SingleWriter = true };
        var planned = Channel.CreateBounded<PlannedBatch>(channelOptions);
        var embedded = Channel.CreateBounded<EmbeddedBatch>(channelOptions);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The first stage to fail stops the others (a full channel would otherwise block its writer forever).
        await WhenAllOrFirstFailureAsync(
            RunStageAsync(e => planned.Writer.TryComplete(e), failed, token => PlanAsync(pass, rows, planned.Writer, token)),
            RunStageAsync(e => embedded.Writer.TryComplete(e), failed, token => EmbedAsync(pass, planned.Reader, embedded.Writer, token)),
            RunStageAsync(_ => { }, failed, token => WriteAsync(pass, embedded.Reader, token)));
    }

    private async Task PlanAsync(Pass pass, IAsyncEnumerable<SourceRow> rows, ChannelWriter<PlannedBatch> output, CancellationToken ct)
    {
        var batch = new List<SourceRow>(options.BatchSize);
        await foreach (var row in rows.WithCancellation(ct))
        {
            batch.Add(row);
            if (batch.Count < options.BatchSize) continue;
            await output.WriteAsync(await PlanBatchAsync(pass, batch, ct), ct);
            batch = new List<SourceRow>(options.BatchSize);
        }
        if (batch.Count > 0) await output.WriteAsync(await PlanBatchAsync(pass, batch, ct), ct);
    }

    /// <summary>Only products whose content differs from what the target version holds go on to the embedder.</summary>
    private async Task<PlannedBatch> PlanBatchAsync(Pass pass, List<SourceRow> rows, CancellationToken ct)
    {
        // A file may list an id twice: its last row wins, as a later upsert would.
        var products = rows.Where(r => r.Product is not null).Select(r => r.Product!)
            .GroupBy(p => p.Id, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var known = await ledger.GetContentHashesAsync(pass.Target, products.Select(p => p.Id).ToList(), ct);
        var changed = new List<Product>();
        var seen = new List<ContentHash>();
        var leaving = new List<string>();
        foreach (var product in products)
        {
            var hash = product.ContentFingerprint();
            var stored = known.GetValueOrDefault(product.Id);
            if (stored is null && pass.Kind.RemovesUnlistedFromStore) { leaving.Add(product.Id); continue; }
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
    private async Task EmbedAsync(Pass pass, ChannelReader<PlannedBatch> input, ChannelWriter<EmbeddedBatch> output, CancellationToken ct)
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
            if (fresh.Count > 0) await cache.PutEmbeddingsAsync(pass.Spec, fresh, ct);
            var vectors = fresh.ToDictionary();
            var records = batch.Changed
                .Select((p, i) => p.ToVectorRecord(batch.Cached.GetValueOrDefault(batch.TextHashes[i]) ?? vectors[batch.TextHashes[i]]))
                .ToList();
            await output.WriteAsync(new EmbeddedBatch(batch, records, fresh.Count), ct);
        }
    }

    private async Task WriteAsync(Pass pass, ChannelReader<EmbeddedBatch> input, CancellationToken ct)
    {
        await foreach (var (plan, records, inferred) in input.ReadAllAsync(ct))
        {
            // The store is the catalog of record: it is written before the index, as catalog writes are.
            if (pass.Kind.WritesStore && plan.Changed.Count > 0) await catalog.UpsertProductsAsync(plan.Changed, ct);
            if (plan.LeavingStore.Count > 0) await catalog.DeleteProductsAsync(plan.LeavingStore, ct);
            if (records.Count > 0) await index.UpsertAsync(pass.Target, records, ct);
            var added = new RunCounters(
                Processed: pass.Kind.CountsRows ? plan.Rows : 0, Embedded: inferred, Cached: plan.Changed.Count - inferred,
                Deleted: plan.LeavingStore.Count, BadRows: plan.BadRows.Count);
            var run = await pass.Run.Lease.SaveAsync(r => r with { Checkpoint = plan.LastPosition, Counters = r.Counters + added },
                new JobBatch(pass.Target, pass.Kind.Mark, plan.Seen, plan.BadRows), ct);
            if (records.Count > 0) await RemoveDeletedSinceReadAsync(pass.Target, records, ct);
            ReindexMetrics.Committed(pass.Run.Job.Mode, added.Processed);
            var maxBadRows = pass.Run.Job.MaxBadRows;
            if (maxBadRows >= 0 && run.Counters.BadRows > maxBadRows)
            {
                var first = (await jobs.GetBadRowsAsync(pass.Run.Job.Id, 1, ct)).FirstOrDefault();
                throw new InvalidDataException(
                    $"{run.Counters.BadRows} bad source rows exceed max_bad_rows {maxBadRows}" + (first is null ? "" : $"; first at line {first.Line}: {first.Message}"));
            }
        }
    }

    /// <summary>
    /// A catalog delete between this batch's read and its upsert removes the vector before the upsert puts it back (and
    /// its hash delete may even follow the batch's hash write). So the store is read again once the batch is written:
    /// what left it is unindexed here, and a delete after this read unindexes it itself. Every interleaving converges.
    /// </summary>
    private async Task RemoveDeletedSinceReadAsync(string target, IReadOnlyList<VectorRecord> records, CancellationToken ct)
    {
        var written = records.Select(r => r.ProductId).ToList();
        var stored = await catalog.GetProductsAsync(written, ct);
        var gone = written.Where(id => !stored.ContainsKey(id)).ToList();
        if (gone.Count == 0) return;
        await index.DeleteAsync(target, gone, ct);
        await ledger.DeleteContentHashesAsync(target, gone, ct);
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
            if (cause is not null) ExceptionDispatchInfo.Throw(cause);
            throw;
        }
    }
}
