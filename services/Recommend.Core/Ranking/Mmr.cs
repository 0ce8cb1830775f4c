using System.Numerics.Tensors;

namespace Recommend.Core.Ranking;

/// <summary>Maximal marginal relevance: trades a little relevance for not showing five near-identical items.</summary>
internal static class Mmr
{
    /// <param name="ranked">Candidates by descending score.</param>
    /// <param name="lambda">1 = pure relevance order, 0 = pure novelty.</param>
    public static List<ScoredCandidate> Select(
        IReadOnlyList<ScoredCandidate> ranked, IReadOnlyDictionary<string, float[]> vectors, int k, double lambda)
    {
        if (ranked.Count == 0) return [];
        var top = ranked[0].Score;
        var scale = top > 0 ? 1 / top : 1;
        var remaining = ranked.ToList();
        var selected = new List<ScoredCandidate>(Math.Min(k, ranked.Count));
        // Highest similarity of each remaining candidate to anything already selected.
        var redundancy = new double[remaining.Count];

        while (selected.Count < k && remaining.Count > 0)
        {
            var best = 0;
            var bestValue = double.NegativeInfinity;
            for (var i = 0; i < remaining.Count; i++)
            {
                var value = lambda * remaining[i].Score * scale - (1 - lambda) * redundancy[i];
                if (value > bestValue) (best, bestValue) = (i, value);
            }

            var pick = remaining[best];
            selected.Add(pick);
            remaining.RemoveAt(best);
            var rest = redundancy.AsSpan(best + 1, remaining.Count - best);
            rest.CopyTo(redundancy.AsSpan(best));

            if (!vectors.TryGetValue(pick.Candidate.ProductId, out var picked)) continue;
            for (var i = 0; i < remaining.Count; i++)
            {
                if (vectors.TryGetValue(remaining[i].Candidate.ProductId, out var other) && other.Length == picked.Length)
                    redundancy[i] = Math.Max(redundancy[i], TensorPrimitives.Dot(picked, other));
            }
        }
        return selected;
    }
}
