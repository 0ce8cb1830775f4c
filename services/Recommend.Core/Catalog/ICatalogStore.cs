namespace Recommend.Core.Catalog;

/// <summary>Port: the catalog of record (products). Implemented by the SQLite and Postgres stores.</summary>
public interface ICatalogStore
{
    /// <summary>Inserts or replaces products by id, atomically for the batch.</summary>
    Task UpsertProductsAsync(IReadOnlyList<Product> products, CancellationToken ct);

    /// <summary>Deletes products by id; returns how many existed.</summary>
    Task<int> DeleteProductsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct);

    /// <summary>Products found among <paramref name="productIds"/>, keyed by id (missing ids are absent).</summary>
    Task<IReadOnlyDictionary<string, Product>> GetProductsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct);

    Task<long> CountProductsAsync(CancellationToken ct);

    /// <summary>All products in id order, streamed (re-indexing reads the catalog through this).</summary>
    IAsyncEnumerable<Product> ScanProductsAsync(CancellationToken ct);
}
