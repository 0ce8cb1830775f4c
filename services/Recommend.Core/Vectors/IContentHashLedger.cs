namespace Recommend.Core.Vectors;

/// <summary>
/// Port: what each index version holds for each product, as a content hash (embedding text and payload), so a writer
/// can tell a changed product from an unchanged one and a pass can find the products it did not see. Catalog writes
/// and re-indexing both keep it; the SQLite and Postgres stores implement it.
/// </summary>
public interface IContentHashLedger
{
    /// <summary>Hashes recorded for <paramref name="version"/>, by product id; unknown ids are absent.</summary>
    Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct);

    /// <summary>
    /// Records hashes written outside a re-index pass (catalog writes). A product's pass mark is kept, so a write racing
    /// a pass is not mistaken for a product the pass did not see.
    /// </summary>
    Task PutContentHashesAsync(string version, IReadOnlyList<ContentHash> hashes, CancellationToken ct);

    /// <summary>Up to <paramref name="limit"/> products of <paramref name="version"/> after <paramref name="afterId"/> not tagged with <paramref name="mark"/>, in id order.</summary>
    Task<IReadOnlyList<string>> ListUnmarkedProductsAsync(string version, string mark, string? afterId, int limit, CancellationToken ct);

    Task DeleteContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct);

    Task<long> CountContentHashesAsync(string version, CancellationToken ct);

    /// <summary>Forgets every hash of a deleted version.</summary>
    Task DropContentHashesAsync(string version, CancellationToken ct);
}

/// <summary>Fingerprint of what the index holds for a product (embedding text and payload), per index version.</summary>
public readonly record struct ContentHash(string ProductId, string Hash);
