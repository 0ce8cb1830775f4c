using System.Collections.Concurrent;
using Recommend.Core.Embeddings;
using Recommend.Core.Vectors;

namespace Recommend.Reindexing.Tests;

/// <summary>
/// The hashing provider, decorated so tests can count model inferences per text and inject a fault or a delay just
/// before an inference (a crash mid-run, a slow model).
/// </summary>
internal sealed class CountingEmbedders : IEmbedderProvider
{
    private readonly HashingEmbedderProvider _inner = new(new HashingEmbedder());
    private readonly ConcurrentDictionary<string, int> _inferences = new(StringComparer.Ordinal);
    private int _calls;

    /// <summary>Runs before each document inference call with its 1-based number; may delay or throw.</summary>
    public Func<int, CancellationToken, Task> BeforeInference { get; set; } = (_, _) => Task.CompletedTask;

    public int Inferences => _inferences.Values.Sum();

    public int MostInferencesOfOneText => _inferences.Values.DefaultIfEmpty(0).Max();

    public int InferencesOf(string text) => _inferences.GetValueOrDefault(text);

    public void Reset() => _inferences.Clear();

    public IEmbedder Default => new Counting(this, _inner.Default);
    public int MinDimension => _inner.MinDimension;
    public int MaxDimension => _inner.MaxDimension;
    public IEmbedder For(IndexSpec spec) => new Counting(this, _inner.For(spec));

    private sealed class Counting(CountingEmbedders owner, IEmbedder model) : IEmbedder
    {
        public EmbedderInfo Info => model.Info;

        public async Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct)
        {
            await owner.BeforeInference(Interlocked.Increment(ref owner._calls), ct);
            var vectors = await model.EmbedDocumentsAsync(texts, ct);
            foreach (var text in texts) owner._inferences.AddOrUpdate(text, 1, (_, n) => n + 1);
            return vectors;
        }

        public Task<float[]> EmbedQueryAsync(string query, CancellationToken ct) => model.EmbedQueryAsync(query, ct);
    }
}
