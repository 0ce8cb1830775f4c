using System.Numerics.Tensors;

namespace Recommend.Core.Vectors;

/// <summary>
/// Port: a versioned vector index (embedded index or Qdrant). Writes name a version; reads go to the live one.
/// A new version is built beside the live one and readers are switched in one atomic step, so re-indexing never
/// serves a half-built index.
/// </summary>
public interface IVectorIndex
{
    /// <summary>Human-readable backend name for status output, e.g. "embedded" or "qdrant".</summary>
    string Backend { get; }

    /// <summary>The version readers use now, or null when nothing has been made live yet.</summary>
    Task<IndexVersion?> GetLiveVersionAsync(CancellationToken ct);

    /// <summary>All versions, newest first.</summary>
    Task<IReadOnlyList<IndexVersion>> ListVersionsAsync(CancellationToken ct);

    /// <summary>Creates an empty version for vectors of <paramref name="spec"/>; it is not live until <see cref="SetLiveVersionAsync"/>.</summary>
    Task<IndexVersion> CreateVersionAsync(IndexSpec spec, CancellationToken ct);

    /// <summary>Atomically points readers at <paramref name="version"/>.</summary>
    Task SetLiveVersionAsync(string version, CancellationToken ct);

    /// <summary>Deletes a version that is not live.</summary>
    Task DeleteVersionAsync(string version, CancellationToken ct);

    /// <summary>Inserts or replaces records; durable when the task completes. Dimension must match the version's.</summary>
    Task UpsertAsync(string version, IReadOnlyList<VectorRecord> records, CancellationToken ct);

    Task DeleteAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct);

    Task<long> CountAsync(string version, CancellationToken ct);

    /// <summary>How searches of <paramref name="version"/> are answered now (exactly, or through an approximate index), for status.</summary>
    Task<SearchIndexStatus> DescribeSearchAsync(string version, CancellationToken ct);

    /// <summary>Nearest neighbours in the live version by cosine similarity, best first, honouring the filter.</summary>
    Task<IReadOnlyList<VectorHit>> SearchAsync(VectorQuery query, CancellationToken ct);

    /// <summary>Nearest neighbours in <paramref name="version"/>, live or not: a new version is checked before it goes live.</summary>
    Task<IReadOnlyList<VectorHit>> SearchAsync(string version, VectorQuery query, CancellationToken ct);

    /// <summary>Stored (normalised) vectors of the given products in the live version; missing ids are absent.</summary>
    Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct);

    /// <summary>Which of the given products have a vector in the live version, without reading the vectors.</summary>
    async Task<IReadOnlySet<string>> FindIndexedAsync(IReadOnlyCollection<string> productIds, CancellationToken ct) =>
        (await GetVectorsAsync(productIds, ct)).Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Cosine similarity of <paramref name="unitVector"/> (unit length) with each given product's vector in the live
    /// version; products without a vector of that dimension are absent. Backends that hold vectors in memory override
    /// this to score in place instead of copying every vector out.
    /// </summary>
    async Task<IReadOnlyList<VectorHit>> ScoreAsync(float[] unitVector, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        var vectors = await GetVectorsAsync(productIds, ct);
        return vectors.Where(v => v.Value.Length == unitVector.Length).Select(v => new VectorHit(v.Key, TensorPrimitives.Dot(v.Value, unitVector))).ToList();
    }

    /// <summary>
    /// The sum of the given products' vectors in the live version, each times its weight, scaled to unit length (a
    /// customer's profile); null when none has a vector or they cancel out. Backends that hold vectors in memory
    /// override this to sum in place instead of copying every vector out (a heavy customer has hundreds).
    /// </summary>
    async Task<float[]?> WeightedMeanAsync(IReadOnlyDictionary<string, double> weights, CancellationToken ct)
    {
        var vectors = await GetVectorsAsync(weights.Keys.ToList(), ct);
        float[]? sum = null;
        foreach (var (productId, weight) in weights)
        {
            if (!vectors.TryGetValue(productId, out var vector)) continue;
            sum ??= new float[vector.Length];
            if (vector.Length == sum.Length) TensorPrimitives.MultiplyAdd(vector, (float)weight, sum, sum);
        }
        if (sum is null) return null;
        var norm = TensorPrimitives.Norm(sum);
        if (norm <= 0) return null;
        TensorPrimitives.Divide(sum, norm, sum);
        return sum;
    }

    /// <summary>
    /// For each of <paramref name="productIds"/>, the one of <paramref name="among"/> whose vector in the live version is
    /// most similar to its own (here the first of equals, in <paramref name="among"/>'s order): what a profile neighbour
    /// is "because of". Products without a vector, or with none of <paramref name="among"/> indexed, are absent.
    /// Backends override this to compare where the vectors are, without copying all of <paramref name="among"/> out.
    /// </summary>
    async Task<IReadOnlyDictionary<string, string>> NearestAmongAsync(
        IReadOnlyCollection<string> productIds, IReadOnlyCollection<string> among, CancellationToken ct)
    {
        var vectors = await GetVectorsAsync(productIds.Concat(among).Distinct(StringComparer.Ordinal).ToList(), ct);
        var nearest = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var productId in productIds)
        {
            if (!vectors.TryGetValue(productId, out var vector)) continue;
            var best = float.NegativeInfinity;
            foreach (var candidate in among)
            {
                if (!vectors.TryGetValue(candidate, out var other) || other.Length != vector.Length) continue;
                var similarity = TensorPrimitives.Dot(vector, other);
                if (similarity > best) (best, nearest[productId]) = (similarity, candidate);
            }
        }
        return nearest;
    }
}

/// <summary>What a version's vectors mean: which model made them and at which dimension.</summary>
public sealed record IndexSpec(string ModelId, int Dimension);

public sealed record IndexVersion(string Name, IndexSpec Spec, DateTimeOffset CreatedAt, bool IsLive);

public enum SearchIndexState
{
    /// <summary>Searches scan the vectors exactly: too few for an approximate index, or its build failed.</summary>
    Exact,
    /// <summary>The approximate index is being built or optimised.</summary>
    Building,
    Ready,
    /// <summary>Not held in memory (a version kept for rollback); loaded when it is made live.</summary>
    OnDisk,
}

/// <param name="IndexedVectors">Vectors the approximate index holds.</param>
public sealed record SearchIndexStatus(SearchIndexState State, long IndexedVectors);

/// <summary>A product's vector and the payload the index filters on.</summary>
public sealed record VectorRecord(string ProductId, float[] Vector, string Category, double Price, bool InStock, string Title);

public sealed record VectorQuery(float[] Vector, int Limit, ProductFilter Filter);

public readonly record struct VectorHit(string ProductId, float Score);
