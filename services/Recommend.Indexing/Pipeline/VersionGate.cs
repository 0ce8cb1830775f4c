using Microsoft.Extensions.Logging;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;

namespace Recommend.Indexing.Pipeline;

/// <summary>
/// The index versions a run touches: which one it writes, whether a new one may go live (verified), the switch and the
/// pruning after it, and the removal of a half-built version a run abandoned.
/// </summary>
internal sealed class VersionGate(
    IVectorIndex index, IContentHashLedger ledger, ICatalogStore catalog, IEmbeddingCache cache, ReindexOptions options, ILogger logger)
{
    private const double SampleScoreTolerance = 1e-4;

    /// <summary>The live version for an incremental run; a new, empty version for a full one.</summary>
    public async Task<string> ChooseTargetAsync(ReindexJob job, CancellationToken ct)
    {
        if (job.Mode == ReindexMode.Incremental)
        {
            var live = await index.GetLiveVersionAsync(ct) ?? throw new ReindexPreconditionException("no live index version to update; run a full re-index first");
            if (live.Spec != job.Spec) throw new ReindexPreconditionException($"the live version {live.Name} holds {live.Spec.ModelId}/{live.Spec.Dimension}, not {job.Spec.ModelId}/{job.Spec.Dimension}");
            return live.Name;
        }
        var created = await index.CreateVersionAsync(job.Spec, ct);
        // A version name can come back after its predecessor was deleted: start its hashes from nothing.
        await ledger.DropContentHashesAsync(created.Name, ct);
        return created.Name;
    }

    /// <summary>Verifies <paramref name="target"/>, makes it live, and deletes versions beyond those kept for rollback.</summary>
    public async Task SwitchAsync(string target, IEmbedder model, CancellationToken ct)
    {
        await VerifyAsync(target, model, ct);
        await index.SetLiveVersionAsync(target, ct);
        await PruneAsync(target, ct);
    }

    /// <summary>A new version goes live only if it holds every product recorded for it and sample products find themselves.</summary>
    private async Task VerifyAsync(string target, IEmbedder model, CancellationToken ct)
    {
        var expected = await ledger.CountContentHashesAsync(target, ct);
        var actual = await index.CountAsync(target, ct);
        if (actual != expected)
            throw new InvalidOperationException($"verification failed: version {target} holds {actual} vectors where the run wrote {expected}");

        var samples = new List<Product>();
        await foreach (var product in catalog.ScanProductsAsync(ct))
        {
            samples.Add(product);
            if (samples.Count == options.VerificationSamples) break;
        }
        if (samples.Count == 0) return;
        var vectors = await new CachingEmbedder(model, cache).EmbedDocumentsAsync(samples.Select(p => p.EmbeddingText).ToList(), ct);
        for (var i = 0; i < samples.Count; i++)
        {
            var hits = await index.SearchAsync(target, new VectorQuery(vectors[i], 10, ProductFilter.None), ct);
            // Products with identical content tie at the top score; any of them is a correct first answer.
            if (!hits.Any(h => h.ProductId == samples[i].Id && h.Score >= hits[0].Score - SampleScoreTolerance))
                throw new InvalidOperationException($"verification failed: product {samples[i].Id} does not find itself in version {target}");
        }
    }

    private async Task PruneAsync(string live, CancellationToken ct)
    {
        var stale = (await index.ListVersionsAsync(ct)).Where(v => v.Name != live).Skip(options.KeepPreviousVersions);
        foreach (var version in stale)
        {
            try
            {
                await DeleteAsync(version.Name, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The switch already happened; an old version left behind is only disk space.
                logger.LogWarning(e, "Could not delete old index version {Version}", version.Name);
            }
        }
    }

    /// <summary>A failed or cancelled full run never went live: its half-built version is deleted (unless it is live).</summary>
    public async Task DiscardAsync(ReindexJob job)
    {
        if (job is not { Mode: ReindexMode.Full, TargetVersion: { } target }) return;
        try
        {
            var live = await index.GetLiveVersionAsync(CancellationToken.None);
            if (live?.Name != target) await DeleteAsync(target, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not delete the unfinished index version {Version} of job {JobId}", target, job.Id);
        }
    }

    /// <summary>Deletes a version and its content hashes.</summary>
    public async Task DeleteAsync(string version, CancellationToken ct)
    {
        await index.DeleteVersionAsync(version, ct);
        await ledger.DropContentHashesAsync(version, ct);
    }
}
