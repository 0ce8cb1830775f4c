using Recommend.Core.Embeddings;
using Recommend.Core.Vectors;
using Xunit;

namespace Recommend.Embeddings.Qwen.Tests;

public sealed class CachingEmbedderTests
{
    [Fact]
    public async Task Embeds_only_texts_missing_from_the_cache_and_returns_vectors_in_request_order()
    {
        var inner = new RecordingEmbedder(new HashingEmbedder(64));
        var cache = new InMemoryEmbeddingCache();
        var embedder = new CachingEmbedder(inner, cache);

        var first = await embedder.EmbedDocumentsAsync(["red mug", "blue mug", "red mug"], CancellationToken.None);
        var second = await embedder.EmbedDocumentsAsync(["green mug", "red mug", "blue mug"], CancellationToken.None);

        Assert.Equal([["red mug", "blue mug"], ["green mug"]], inner.DocumentBatches);
        var direct = new HashingEmbedder(64);
        Assert.Equal([direct.Embed("red mug"), direct.Embed("blue mug"), direct.Embed("red mug")], first);
        Assert.Equal([direct.Embed("green mug"), direct.Embed("red mug"), direct.Embed("blue mug")], second);
        Assert.Equal(3, cache.Count(inner.Info.Spec));
    }

    [Fact]
    public async Task Entries_are_kept_per_model_and_dimension()
    {
        var cache = new InMemoryEmbeddingCache();
        var small = new RecordingEmbedder(new HashingEmbedder(32));
        var large = new RecordingEmbedder(new HashingEmbedder(64));

        await new CachingEmbedder(small, cache).EmbedDocumentsAsync(["mug"], CancellationToken.None);
        var vectors = await new CachingEmbedder(large, cache).EmbedDocumentsAsync(["mug"], CancellationToken.None);

        Assert.Single(large.DocumentBatches);
        Assert.Equal(64, vectors[0].Length);
    }

    [Fact]
    public async Task Queries_are_neither_cached_nor_looked_up()
    {
        var inner = new RecordingEmbedder(new HashingEmbedder(64));
        var cache = new InMemoryEmbeddingCache();
        var embedder = new CachingEmbedder(inner, cache);

        await embedder.EmbedQueryAsync("mug", CancellationToken.None);
        await embedder.EmbedQueryAsync("mug", CancellationToken.None);

        Assert.Equal(2, inner.Queries);
        Assert.Equal(0, cache.Count(inner.Info.Spec));
        Assert.Equal(0, cache.Lookups);
    }

    /// <summary>Spy over a real embedder: records what reaches it.</summary>
    private sealed class RecordingEmbedder(IEmbedder inner) : IEmbedder
    {
        public List<string[]> DocumentBatches { get; } = [];
        public int Queries { get; private set; }
        public EmbedderInfo Info => inner.Info;

        public Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct)
        {
            DocumentBatches.Add(texts.ToArray());
            return inner.EmbedDocumentsAsync(texts, ct);
        }

        public Task<float[]> EmbedQueryAsync(string query, CancellationToken ct)
        {
            Queries++;
            return inner.EmbedQueryAsync(query, ct);
        }
    }

    /// <summary>In-memory fake of the cache port (the SQLite and Postgres stores implement it for real).</summary>
    private sealed class InMemoryEmbeddingCache : IEmbeddingCache
    {
        private readonly Dictionary<(IndexSpec, string), float[]> _entries = [];
        public int Lookups { get; private set; }

        public int Count(IndexSpec spec) => _entries.Keys.Count(k => k.Item1 == spec);

        public Task<IReadOnlyDictionary<string, float[]>> GetEmbeddingsAsync(IndexSpec spec, IReadOnlyCollection<string> textHashes, CancellationToken ct)
        {
            Lookups++;
            IReadOnlyDictionary<string, float[]> found = textHashes
                .Where(h => _entries.ContainsKey((spec, h)))
                .ToDictionary(h => h, h => _entries[(spec, h)]);
            return Task.FromResult(found);
        }

        public Task PutEmbeddingsAsync(IndexSpec spec, IReadOnlyList<KeyValuePair<string, float[]>> vectorsByTextHash, CancellationToken ct)
        {
            foreach (var (hash, vector) in vectorsByTextHash) _entries[(spec, hash)] = vector;
            return Task.CompletedTask;
        }
    }
}
