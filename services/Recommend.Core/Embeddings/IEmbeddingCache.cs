namespace Recommend.Core.Embeddings;

/// <summary>
/// Port: persisted embeddings keyed by (model id, dimension, SHA-256 of the text), so an unchanged text is never
/// embedded twice, across restarts too. Implemented by the SQLite and Postgres stores.
/// </summary>
public interface IEmbeddingCache
{
    /// <summary>Cached vectors for the given text hashes under <paramref name="spec"/>; misses are absent.</summary>
    Task<IReadOnlyDictionary<string, float[]>> GetEmbeddingsAsync(Vectors.IndexSpec spec, IReadOnlyCollection<string> textHashes, CancellationToken ct);

    /// <summary>Stores vectors by text hash under <paramref name="spec"/> (replaces existing entries).</summary>
    Task PutEmbeddingsAsync(Vectors.IndexSpec spec, IReadOnlyList<KeyValuePair<string, float[]>> vectorsByTextHash, CancellationToken ct);
}
