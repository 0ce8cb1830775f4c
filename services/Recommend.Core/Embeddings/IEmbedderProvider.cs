using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;

namespace Recommend.Core.Embeddings;

/// <summary>
/// Port: the embedder for an index version's spec, so serving follows the live version after a re-index switched the
/// dimension (Matryoshka) — and refuses vectors of a model that is not loaded.
/// </summary>
public interface IEmbedderProvider
{
    /// <summary>The configured embedder: a first index and full re-indexes without a requested dimension use its spec.</summary>
    IEmbedder Default { get; }

    int MinDimension { get; }

    int MaxDimension { get; }

    /// <summary>An embedder whose vectors match <paramref name="spec"/>.</summary>
    /// <exception cref="IndexSpecMismatchException">The spec names another model or a dimension this model cannot make.</exception>
    IEmbedder For(IndexSpec spec);

    /// <summary>The provider for <paramref name="configured"/>: hashing makes any dimension; a model truncates (Matryoshka).</summary>
    public static IEmbedderProvider Create(IEmbedder configured, int minDimension = MatryoshkaEmbedderProvider.DefaultMinDimension) =>
        configured is HashingEmbedder hashing ? new HashingEmbedderProvider(hashing) : new MatryoshkaEmbedderProvider(configured, minDimension);
}

/// <summary>The fallback makes any dimension by hashing into that many buckets.</summary>
public sealed class HashingEmbedderProvider(HashingEmbedder configured) : IEmbedderProvider
{
    private const int Largest = 4096;
    private readonly ConcurrentDictionary<int, HashingEmbedder> _byDimension = new() { [configured.Info.Dimension] = configured };

    public IEmbedder Default => configured;
    public int MinDimension => 1;
    public int MaxDimension => Largest;

    public IEmbedder For(IndexSpec spec)
    {
        if (spec.ModelId != HashingEmbedder.ModelId || spec.Dimension is < 1 or > Largest)
            throw new IndexSpecMismatchException(spec, configured.Info.Spec);
        return _byDimension.GetOrAdd(spec.Dimension, dimension => new HashingEmbedder(dimension));
    }
}

/// <summary>
/// A Matryoshka-trained model (Qwen3-Embedding) answers any dimension up to its own by keeping the leading values and
/// normalising again — the same vector the model would give when configured with that dimension.
/// </summary>
public sealed class MatryoshkaEmbedderProvider(IEmbedder configured, int minDimension) : IEmbedderProvider
{
    public const int DefaultMinDimension = 32;
    private readonly ConcurrentDictionary<int, IEmbedder> _byDimension = new() { [configured.Info.Dimension] = configured };

    public IEmbedder Default => configured;
    public int MinDimension => minDimension;
    public int MaxDimension => configured.Info.Dimension;

    public IEmbedder For(IndexSpec spec)
    {
        if (spec.ModelId != configured.Info.ModelId || spec.Dimension < minDimension || spec.Dimension > MaxDimension)
            throw new IndexSpecMismatchException(spec, configured.Info.Spec);
        return _byDimension.GetOrAdd(spec.Dimension, dimension => new TruncatingEmbedder(configured, dimension));
    }

    private sealed class TruncatingEmbedder(IEmbedder inner, int dimension) : IEmbedder
    {
        public EmbedderInfo Info { get; } = inner.Info with { Dimension = dimension };

        public async Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct) =>
            (await inner.EmbedDocumentsAsync(texts, ct)).Select(Truncate).ToArray();

        public async Task<float[]> EmbedQueryAsync(string query, CancellationToken ct) => Truncate(await inner.EmbedQueryAsync(query, ct));

        private float[] Truncate(float[] full)
        {
            var vector = full.AsSpan(0, dimension).ToArray();
            var norm = TensorPrimitives.Norm(vector);
            if (norm > 0) TensorPrimitives.Divide(vector, norm, vector);
            return vector;
        }
    }
}
