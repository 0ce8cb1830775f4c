using Recommend.Core.Embeddings;
using Recommend.Core.Ranking;
using Recommend.Core.Vectors;

namespace Recommend.Core.Catalog;

/// <summary>
/// Keeps the catalog of record and the live vector index in step: products are stored first (the source of truth
/// that ranking hydrates from), then embedded — unchanged texts come from the embedding cache — and indexed.
/// </summary>
public sealed class CatalogService(ICatalogStore store, IVectorIndex index, IEmbedder embedder)
{
    public IEmbedder Embedder => embedder;

    /// <returns>How many products were upserted.</returns>
    public async Task<int> UpsertAsync(IReadOnlyList<Product> products, CancellationToken ct)
    {
        if (products.Count == 0) return 0;
        var live = await LiveVersionForWritesAsync(ct);
        await store.UpsertProductsAsync(products, ct);
        var vectors = await embedder.EmbedDocumentsAsync(products.Select(p => p.EmbeddingText).ToList(), ct);
        await index.UpsertAsync(live.Name, products.Select((p, i) => VectorRecord.For(p, vectors[i])).ToList(), ct);
        return products.Count;
    }

    /// <summary>Deletes from the store first: once it is gone there, ranking can no longer show it, whatever the index holds.</summary>
    public async Task<int> DeleteAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        var deleted = await store.DeleteProductsAsync(productIds, ct);
        if (await index.GetLiveVersionAsync(ct) is { } live) await index.DeleteAsync(live.Name, productIds, ct);
        return deleted;
    }

    public async Task<Product> GetAsync(string productId, CancellationToken ct)
    {
        var found = await store.GetProductsAsync([productId], ct);
        return found.GetValueOrDefault(productId) ?? throw new ProductNotFoundException(productId);
    }

    /// <summary>
    /// The version writes go to: the live one when it was built by this embedder, a new one made live when there is
    /// none yet (first start), and a refusal when the live index holds another model's vectors.
    /// </summary>
    private async Task<IndexVersion> LiveVersionForWritesAsync(CancellationToken ct)
    {
        var live = await index.GetLiveVersionAsync(ct);
        if (live is null)
        {
            live = await index.CreateVersionAsync(embedder.Info.Spec, ct);
            await index.SetLiveVersionAsync(live.Name, ct);
        }
        else if (live.Spec != embedder.Info.Spec)
        {
            throw new IndexSpecMismatchException(live.Spec, embedder.Info.Spec);
        }
        return live;
    }
}
