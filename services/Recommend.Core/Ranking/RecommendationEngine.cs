using System.Numerics.Tensors;
using Microsoft.Extensions.Logging;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.History;
using Recommend.Core.Vectors;

namespace Recommend.Core.Ranking;

/// <summary>
/// The ranking pipeline: candidate sources (vector neighbours, co-purchases, trending, search) → hydration from the
/// catalog of record → hard filters → blended score → MMR diversity → top-k with reasons.
/// A failing signal degrades the answer instead of failing it, except where that signal is the whole answer.
/// </summary>
public sealed class RecommendationEngine(
    ICatalogStore catalog,
    IHistoryStore history,
    IVectorIndex index,
    IEmbedderProvider embedders,
    ILogger<RecommendationEngine> logger)
{
    /// <summary>Candidates each source contributes before filtering; enough for filters to bite and MMR to choose.</summary>
    private const int SourcePool = 100;
    private const int CoPurchasesPerSource = 30;
    private const int CoPurchaseSources = 10;

    public async Task<RecommendationResult> RecommendAsync(
        IReadOnlyList<string> contextProductIds, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        var run = new RankingRun(options, profile, ct);
        await RequireProductsAsync(contextProductIds, run, ct);
        run.Exclude(contextProductIds);
        await ExcludePurchasedAsync(run, ct);

        var interactions = await SignalAsync(run, "history", [],
            () => options.UserId is { } user
                ? history.GetRecentInteractionsAsync(user, profile.ProfileInteractions, ct)
                : Task.FromResult<IReadOnlyList<Interaction>>([]));
        var anchors = Anchors.From(interactions, contextProductIds, profile);
        run.AddAnchors(anchors);

        if (anchors.Count > 0)
        {
            await SignalAsync(run, "vector index", 0, async () =>
            {
                var anchorVectors = await index.GetVectorsAsync(anchors.Keys, ct);
                var profileVector = anchors.ProfileVector(anchorVectors);
                if (profileVector is null) return 0;
                run.AnchorVectors = anchorVectors;
                var hits = await index.SearchAsync(new VectorQuery(profileVector, SourcePool, run.IndexFilter), ct);
                foreach (var hit in hits) run.Candidate(hit.ProductId, fromFilteredIndex: true).AddSimilarity(hit.Score, null);
                return hits.Count;
            });
            await SignalAsync(run, "co-purchases", 0, () => AddCoPurchasesAsync(run, anchors.CoPurchaseSources(CoPurchaseSources), ct));
        }

        // Trending always joins with a small weight; for a cold-start user it is the whole answer.
        await SignalAsync(run, "trending", 0, () => AddTrendingAsync(run, category: null, ct));
        return await FinishAsync(run, diversify: true, ct);
    }

    public async Task<RecommendationResult> SimilarProductsAsync(
        string productId, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        var run = new RankingRun(options, profile with { CoPurchaseWeight = 0, TrendingWeight = 0 }, ct);
        await RequireProductsAsync([productId], run, ct);
        run.Exclude([productId]);
        await ExcludePurchasedAsync(run, ct);
        run.AddAnchors(Anchors.Context([productId]));

        // The vector index is the whole answer here: if it is down the caller must hear so (no silent empty list).
        var vectors = await index.GetVectorsAsync([productId], ct);
        if (!vectors.TryGetValue(productId, out var vector)) return run.Empty(); // not indexed yet
        run.AnchorVectors = vectors;
        var hits = await index.SearchAsync(new VectorQuery(vector, SourcePool, run.IndexFilter), ct);
        foreach (var hit in hits) run.Candidate(hit.ProductId, fromFilteredIndex: true).AddSimilarity(hit.Score, productId);
        return await FinishAsync(run, diversify: true, ct);
    }

    public async Task<RecommendationResult> FrequentlyBoughtTogetherAsync(
        IReadOnlyList<string> productIds, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        // Co-purchases lead; similar items only fill the remaining slots (a new product has no baskets yet).
        var run = new RankingRun(options, profile with { CoPurchaseWeight = 1, SimilarityWeight = 0.01, TrendingWeight = 0 }, ct);
        await RequireProductsAsync(productIds, run, ct);
        run.Exclude(productIds);
        await ExcludePurchasedAsync(run, ct);
        var anchors = Anchors.Context(productIds);
        run.AddAnchors(anchors);

        await SignalAsync(run, "co-purchases", 0, () => AddCoPurchasesAsync(run, productIds, ct));
        if (run.CandidateCount < options.Limit)
        {
            await SignalAsync(run, "vector index", 0, async () =>
            {
                var anchorVectors = await index.GetVectorsAsync(productIds, ct);
                var profileVector = anchors.ProfileVector(anchorVectors);
                if (profileVector is null) return 0;
                run.AnchorVectors = anchorVectors;
                var hits = await index.SearchAsync(new VectorQuery(profileVector, SourcePool, run.IndexFilter), ct);
                foreach (var hit in hits) run.Candidate(hit.ProductId, fromFilteredIndex: true).AddSimilarity(hit.Score, null);
                return hits.Count;
            });
        }
        return await FinishAsync(run, diversify: false, ct);
    }

    public async Task<RecommendationResult> TrendingAsync(
        string? category, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        var run = new RankingRun(options, profile with { SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 1 }, ct);
        await ExcludePurchasedAsync(run, ct);
        // Trending is the whole answer here: a store fault propagates.
        await AddTrendingAsync(run, string.IsNullOrEmpty(category) ? null : category, ct);
        return await FinishAsync(run, diversify: true, ct);
    }

    public async Task<RecommendationResult> SearchAsync(
        string query, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        var run = new RankingRun(options, profile with { SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 0 }, ct);
        var embedder = await ServingEmbedderAsync(ct);
        var vector = await embedder.EmbedQueryAsync(query, ct);
        var hits = await index.SearchAsync(new VectorQuery(vector, Math.Max(options.Limit, SourcePool / 2), run.IndexFilter), ct);
        foreach (var hit in hits) run.Candidate(hit.ProductId, fromFilteredIndex: true).AddSearchMatch(hit.Score);
        run.SearchQuery = query;
        // Search results keep relevance order: diversity would push exact matches down.
        return await FinishAsync(run, diversify: false, ct);
    }

    /// <summary>
    /// Queries are embedded to match the live version (which a re-index may have switched to another dimension); an
    /// index built by a model that is not loaded is refused (FAILED_PRECONDITION upstream).
    /// </summary>
    private async Task<IEmbedder> ServingEmbedderAsync(CancellationToken ct) =>
        await index.GetLiveVersionAsync(ct) is { } live ? embedders.For(live.Spec) : embedders.Default;

    private async Task<IReadOnlyDictionary<string, Product>> RequireProductsAsync(
        IReadOnlyList<string> productIds, RankingRun run, CancellationToken ct)
    {
        if (productIds.Count == 0) return new Dictionary<string, Product>();
        IReadOnlyDictionary<string, Product> found;
        try
        {
            found = await catalog.GetProductsAsync(productIds, ct);
        }
        catch (Exception ex) when (IsSignalFault(ex, ct))
        {
            // Without the catalog, an indexed vector is the best evidence the product exists.
            run.Degrade("catalog", ex, logger);
            var indexed = await index.GetVectorsAsync(productIds, ct);
            var missingFromIndex = productIds.FirstOrDefault(id => !indexed.ContainsKey(id));
            if (missingFromIndex is not null) throw new ProductNotFoundException(missingFromIndex);
            return new Dictionary<string, Product>();
        }
        var missing = productIds.FirstOrDefault(id => !found.ContainsKey(id));
        if (missing is not null) throw new ProductNotFoundException(missing);
        return found;
    }

    private async Task ExcludePurchasedAsync(RankingRun run, CancellationToken ct)
    {
        if (run.Options.IncludePurchased || run.Options.UserId is not { } user) return;
        var purchased = await SignalAsync(run, "history", (IReadOnlySet<string>)new HashSet<string>(),
            () => history.GetPurchasedProductIdsAsync(user, ct));
        run.Exclude(purchased);
    }

    private async Task<int> AddCoPurchasesAsync(RankingRun run, IReadOnlyCollection<string> sources, CancellationToken ct)
    {
        if (sources.Count == 0) return 0;
        var pairs = await history.GetCoPurchasesAsync(sources, CoPurchasesPerSource, ct);
        foreach (var pair in pairs)
        {
            // Cosine of basket occurrence: a neighbour bought with everything is not evidence of a bond.
            var association = pair.Count / Math.Sqrt(Math.Max(1, pair.SourceBaskets) * (double)Math.Max(1, pair.NeighbourBaskets));
            run.Candidate(pair.ProductId, fromFilteredIndex: false).AddCoPurchase(association * run.AnchorWeight(pair.SourceProductId), pair.SourceProductId);
        }
        return pairs.Count;
    }

    private async Task<int> AddTrendingAsync(RankingRun run, string? category, CancellationToken ct)
    {
        var trending = await history.GetTrendingAsync(category, SourcePool, ct);
        if (trending.Count == 0) return 0;
        var top = trending[0].LogScore;
        foreach (var item in trending)
            run.Candidate(item.ProductId, fromFilteredIndex: false).AddTrending(Math.Exp(item.LogScore - top), item.Category);
        return trending.Count;
    }

    private async Task<T> SignalAsync<T>(RankingRun run, string signal, T fallback, Func<Task<T>> fetch)
    {
        try
        {
            return await fetch();
        }
        catch (Exception ex) when (IsSignalFault(ex, run.CancellationToken))
        {
            run.Degrade(signal, ex, logger);
            return fallback;
        }
    }

    /// <summary>Faults of a backing service; not the caller's cancellation, not our own request errors.</summary>
    private static bool IsSignalFault(Exception ex, CancellationToken ct) =>
        !(ex is OperationCanceledException && ct.IsCancellationRequested)
        && ex is not ProductNotFoundException and not IndexSpecMismatchException and not ArgumentException;

    private async Task<RecommendationResult> FinishAsync(RankingRun run, bool diversify, CancellationToken ct)
    {
        var ids = run.CandidateIds.Concat(run.AnchorIds).Distinct(StringComparer.Ordinal).ToList();
        IReadOnlyDictionary<string, Product>? products = null;
        if (ids.Count > 0)
        {
            products = await SignalAsync(run, "catalog", (IReadOnlyDictionary<string, Product>?)null,
                async () => await catalog.GetProductsAsync(ids, ct));
        }

        var eligible = run.Eligible(products);
        var ranked = eligible.OrderByDescending(c => c.Score).ThenBy(c => c.Candidate.ProductId, StringComparer.Ordinal).ToList();
        var pool = ranked.Take(Math.Max(run.Options.Limit * 4, 40)).ToList();

        IReadOnlyDictionary<string, float[]> vectors = new Dictionary<string, float[]>();
        if (pool.Count > 0 && (diversify || run.NeedsAnchorAttribution))
        {
            vectors = await SignalAsync(run, "vector index", vectors,
                () => index.GetVectorsAsync(pool.Select(c => c.Candidate.ProductId).ToList(), ct));
        }

        var chosen = diversify
            ? Mmr.Select(pool, vectors, run.Options.Limit, run.Profile.DiversityLambda)
            : pool.Take(run.Options.Limit).ToList();
        return run.Result(chosen, vectors, products);
    }
}
