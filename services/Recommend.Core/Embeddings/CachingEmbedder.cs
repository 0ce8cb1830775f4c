namespace Recommend.Core.Embeddings;

/// <summary>
/// Decorator that embeds a document text only once per model and dimension: vectors are looked up in the persistent
/// <see cref="IEmbeddingCache"/> by <see cref="TextHash"/>, misses are embedded in one batch and stored. Queries pass
/// straight through (they rarely repeat and must not fill the store).
/// </summary>
public sealed class CachingEmbedder(IEmbedder inner, IEmbeddingCache cache) : IEmbedder
{
    public EmbedderInfo Info => inner.Info;

    public async Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        if (texts.Count == 0) return [];
        var hashes = texts.Select(TextHash.Of).ToArray();
        var spec = inner.Info.Spec;
        var cached = await cache.GetEmbeddingsAsync(spec, hashes.Distinct().ToArray(), ct);

        // Each distinct missing text is embedded once, even when it repeats within the request.
        var missing = new Dictionary<string, string>();
        for (var i = 0; i < texts.Count; i++)
        {
            if (!cached.ContainsKey(hashes[i])) missing.TryAdd(hashes[i], texts[i]);
        }
        var fresh = new Dictionary<string, float[]>();
        if (missing.Count > 0)
        {
            var vectors = await inner.EmbedDocumentsAsync(missing.Values.ToArray(), ct);
            var entries = missing.Keys.Zip(vectors, KeyValuePair.Create).ToArray();
            await cache.PutEmbeddingsAsync(spec, entries, ct);
            foreach (var (hash, vector) in entries) fresh[hash] = vector;
        }
        return hashes.Select(h => cached.TryGetValue(h, out var vector) ? vector : fresh[h]).ToArray();
    }

    public Task<float[]> EmbedQueryAsync(string query, CancellationToken ct) => inner.EmbedQueryAsync(query, ct);
}
