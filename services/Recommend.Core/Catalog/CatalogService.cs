using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;

namespace Recommend.Core.Catalog;

/// <summary>
/// Keeps the catalog of record and the vector index in step: products are stored first (the source of truth that
/// ranking hydrates from), then embedded — unchanged texts come from the embedding cache — and indexed into the live
/// version and, while a full re-index builds one, into the new version too, so a write during a rebuild is not lost
/// when readers switch. Writes of one product id are serialised; what a crash between the two sides leaves behind is
/// found by <see cref="RepairAsync"/>.
/// </summary>
public sealed class CatalogService(ICatalogStore store, IVectorIndex index, IEmbedderProvider embedders, IEmbeddingCache cache,
    IContentHashLedger ledger, IActiveIndexBuild builds)
{
    private readonly ProductLocks _locks = new();

    /// <returns>How many products were upserted.</returns>
    public async Task<int> UpsertAsync(IReadOnlyList<Product> products, CancellationToken ct)
    {
        if (products.Count == 0) return 0;
        using var held = await _locks.AcquireAsync(products.Select(p => p.Id), ct);
        var live = await LiveVersionForWritesAsync(ct);
        await store.UpsertProductsAsync(products, ct);
        foreach (var (version, spec) in await VersionsForWritesAsync(live, ct)) await IndexAsync(version, spec, products, ct);
        return products.Count;
    }

    /// <summary>Deletes from the store first: once it is gone there, ranking can no longer show it, whatever the index holds.</summary>
    public async Task<int> DeleteAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        using var held = await _locks.AcquireAsync(productIds, ct);
        var deleted = await store.DeleteProductsAsync(productIds, ct);
        if (await index.GetLiveVersionAsync(ct) is { } live)
        {
            foreach (var (version, _) in await VersionsForWritesAsync(live, ct)) await UnindexAsync(version, productIds, ct);
        }
        return deleted;
    }

    /// <summary>
    /// Makes the live index agree with the store for these ids: a product the store holds without a vector is indexed,
    /// a vector whose product the store no longer holds is removed. Both sides are read under the ids' write locks,
    /// so a write in flight is never mistaken for drift, nor undone.
    /// </summary>
    /// <returns>How many products were indexed and how many stray vectors removed.</returns>
    public async Task<(int Indexed, int Removed)> RepairAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0 || await index.GetLiveVersionAsync(ct) is not { } live) return (0, 0);
        using var held = await _locks.AcquireAsync(productIds, ct);
        var products = await store.GetProductsAsync(productIds, ct);
        var vectors = await index.GetVectorsAsync(productIds, ct);
        var unindexed = products.Values.Where(p => !vectors.ContainsKey(p.Id)).ToList();
        var stray = productIds.Where(id => !products.ContainsKey(id) && vectors.ContainsKey(id)).ToList();
        if (unindexed.Count > 0) await IndexAsync(live.Name, live.Spec, unindexed, ct);
        if (stray.Count > 0) await UnindexAsync(live.Name, stray, ct);
        return (unindexed.Count, stray.Count);
    }

    /// <summary>Vectors first, content hashes after: a hash in the ledger always describes a vector in the index.</summary>
    private async Task IndexAsync(string version, IndexSpec spec, IReadOnlyList<Product> products, CancellationToken ct)
    {
        var embedder = new CachingEmbedder(embedders.For(spec), cache);
        var vectors = await embedder.EmbedDocumentsAsync(products.Select(p => p.EmbeddingText).ToList(), ct);
        await index.UpsertAsync(version, products.Select((p, i) => p.ToVectorRecord(vectors[i])).ToList(), ct);
        await ledger.PutContentHashesAsync(version, products.Select(p => p.ContentFingerprint()).ToList(), ct);
    }

    /// <summary>Vectors first, hashes after: a stray vector keeps its ledger entry, which is how the reconciler finds it.</summary>
    private async Task UnindexAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        await index.DeleteAsync(version, productIds, ct);
        await ledger.DeleteContentHashesAsync(version, productIds, ct);
    }

    public async Task<Product> GetAsync(string productId, CancellationToken ct)
    {
        var found = await store.GetProductsAsync([productId], ct);
        return found.GetValueOrDefault(productId) ?? throw new ProductNotFoundException(productId);
    }

    /// <summary>
    /// The version writes go to: the live one when its spec can be served, a new one made live when there is none yet
    /// (first start), and a refusal when the live index holds vectors of a model that is not loaded.
    /// </summary>
    private async Task<IndexVersion> LiveVersionForWritesAsync(CancellationToken ct)
    {
        var live = await index.GetLiveVersionAsync(ct);
        if (live is null)
        {
            live = await index.CreateVersionAsync(embedders.Default.Info.Spec, ct);
            await index.SetLiveVersionAsync(live.Name, ct);
        }
        embedders.For(live.Spec); // throws IndexSpecMismatchException for a foreign index
        return live;
    }

    /// <summary>
    /// The live version, plus the version a full re-index is building. The job's reconcile pass catches a write that
    /// races its start; this catches those that come after it.
    /// </summary>
    private async Task<IReadOnlyList<(string Version, IndexSpec Spec)>> VersionsForWritesAsync(IndexVersion live, CancellationToken ct)
    {
        return await builds.GetAsync(ct) is { } building && building.Version != live.Name
            ? [(live.Name, live.Spec), (building.Version, building.Spec)]
            : [(live.Name, live.Spec)];
    }
}
