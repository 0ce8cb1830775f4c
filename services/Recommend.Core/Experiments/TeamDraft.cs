using Recommend.Core.Ranking;

namespace Recommend.Core.Experiments;

/// <summary>
/// Team-draft interleaving (Radlinski et al. 2008): in each round a coin decides which ranking picks first, then each picks
/// its best item not yet picked; every item is credited to the team that picked it. When one ranking runs out, the other
/// fills the rest.
/// </summary>
public static class TeamDraft
{
    public static IReadOnlyList<(RecommendedProduct Item, string Team)> Interleave(
        IReadOnlyList<RecommendedProduct> a, string teamA, IReadOnlyList<RecommendedProduct> b, string teamB, int limit, Random coin)
    {
        var picked = new List<(RecommendedProduct, string)>(limit);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        int nextA = 0, nextB = 0;
        bool Pick(IReadOnlyList<RecommendedProduct> ranking, ref int next, string team)
        {
            while (next < ranking.Count && !taken.Add(ranking[next].Product.Id)) next++;
            if (next >= ranking.Count) return false;
            picked.Add((ranking[next++], team));
            return true;
        }
        while (picked.Count < limit)
        {
            var aFirst = coin.Next(2) == 0;
            var first = aFirst ? Pick(a, ref nextA, teamA) : Pick(b, ref nextB, teamB);
            if (picked.Count >= limit) break;
            var second = aFirst ? Pick(b, ref nextB, teamB) : Pick(a, ref nextA, teamA);
            if (!first && !second) break;
        }
        return picked;
    }
}
