using Microsoft.Extensions.Logging;
using Recommend.Core.Catalog;
using Recommend.Core.Diagnostics;
using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.History;
using Recommend.Core.Learning;
using Recommend.Core.Vectors;

namespace Recommend.Core.Ranking;

/// <summary>
/// The ranking pipeline: candidate sources (vector neighbours, co-purchases, the learned item-to-item model, the
/// customer's own purchases on buy-again, trending, search) → hydration from the catalog of record → hard filters →
/// blended score → MMR diversity → top-k with reasons.
/// A failing signal degrades the answer instead of failing it, except where that signal is the whole answer.
/// </summary>
public sealed class RecommendationEngine(
    ICatalogStore catalog,
    IHistoryStore history,
    IVectorIndex index,
    IEmbedderProvider embedders,
    LiveItemModel learned,
    ILogger<RecommendationEngine> logger,
    TimeProvider? time = null)
{
    private readonly SharedTrending _trending = new(history, time ?? TimeProvider.System);

    /// <summary>Candidates each source contributes before filtering; enough for filters to bite and MMR to choose.</summary>
    private const int SourcePool = 100;
    private const int CoPurchasesPerSource = 30;
    private const int CoPurchaseSources = 10;
    /// <summary>Leading candidates of the other sources whose similarity to the profile is looked up (see <see cref="AddProfileSimilarityAsync"/>).</summary>
    private const int SimilarityRescorePool = 200;
    private const int LearnedCandidates = 300;
    /// <summary>
    /// Nearest neighbours of a customer's profile: the UCI evaluation scores 50 and 100 the same to four digits (the
    /// blend's leaders get their similarity anyway, <see cref="AddProfileSimilarityAsync"/>), and 50 halves the walk.
    /// </summary>
    private const int ProfileNeighbours = 50;

    public async Task<RecommendationResult> RecommendAsync(
        IReadOnlyList<string> contextProductIds, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        using var span = CoreTelemetry.Source.StartActivity("rank.recommend");
        var model = profile.Sources.HasFlag(CandidateSources.Learned) ? learned.Current : null;
        profile = WithoutModel(profile, model);
        var run = new RankingRun(options, profile, ct);
        // Independent reads run concurrently: together they are most of a request's latency.
        var context = RequireProductsAsync(contextProductIds, run, ct);
        var purchased = PurchasedAsync(run, ct);
        var interactions = SignalAsync(run, "history", (IReadOnlyList<Interaction>)[],
            () => options.UserId is { } user
                ? history.GetRecentInteractionsAsync(user, profile.ProfileInteractions, ct)
                : Task.FromResult<IReadOnlyList<Interaction>>([]));
        // Trending always joins with a small weight (unless the profile leaves it out); for a cold-start user it is the whole answer.
        var trending = Gathers(profile, CandidateSources.Trending, profile.TrendingWeight)
            ? SignalAsync(run, "trending", (IReadOnlyList<TrendingProduct>)[], () => _trending.GetAsync(SourcePool, ct))
            : Task.FromResult<IReadOnlyList<TrendingProduct>>([]);
        await Task.WhenAll(context, purchased, interactions, trending);
        run.Exclude(contextProductIds);
        run.Exclude(purchased.Result);
        var anchors = Anchors.From(interactions.Result, contextProductIds, profile);
        run.AddAnchors(anchors);

        var neighbours = Gathers(profile, CandidateSources.Similar, profile.SimilarityWeight)
            ? SignalAsync(run, "vector index", NeighbourHits.None, () => NeighboursAsync(anchors, Math.Max(ProfileNeighbours, options.Limit), run.IndexFilter, ct))
            : Task.FromResult(NeighbourHits.None);
        var coPurchases = Gathers(profile, CandidateSources.BoughtTogether, profile.CoPurchaseWeight)
            ? SignalAsync(run, "co-purchases", (IReadOnlyList<CoPurchase>)[], () => CoPurchasesAsync(anchors.CoPurchaseSources(CoPurchaseSources), ct))
            : Task.FromResult<IReadOnlyList<CoPurchase>>([]);
        await Task.WhenAll(neighbours, coPurchases);
        AddNeighbours(run, neighbours.Result, anchor: null);
        AddCoPurchases(run, coPurchases.Result);
        if (model is not null) AddLearned(run, model, anchors);
        if (options.IncludePurchased && profile.BuyAgainWeight > 0) AddRepeats(run, anchors);
        AddTrending(run, trending.Result);
        if (profile.SimilarityWeight > 0 && neighbours.Result.ProfileVector is { } profileVector)
            await SignalAsync(run, "vector index", false, () => AddProfileSimilarityAsync(run, profileVector, ct));
        return await FinishAsync(run, diversify: true, ct);
    }

    /// <summary>A source is read only when the profile includes it and weighs it: a zero weight would score all it finds 0.</summary>
    private static bool Gathers(RankingProfile profile, CandidateSources source, double weight) => profile.Sources.HasFlag(source) && weight > 0;

    /// <summary>Before the first training the live co-purchase counts stand in for the learned model (cold start of the service).</summary>
    private static RankingProfile WithoutModel(RankingProfile profile, ItemToItemModel? model) =>
        model is not null || !profile.Sources.HasFlag(CandidateSources.Learned)
            ? profile
            : profile with
            {
                CoPurchaseWeight = profile.CoPurchaseWeight + profile.LearnedWeight,
                LearnedWeight = 0,
                Sources = profile.Sources | CandidateSources.BoughtTogether,
            };

    public async Task<RecommendationResult> SimilarProductsAsync(
        string productId, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        using var span = CoreTelemetry.Source.StartActivity("rank.similar_products");
        var run = new RankingRun(options, profile with { CoPurchaseWeight = 0, TrendingWeight = 0, LearnedWeight = 0 }, ct);
        var purchased = PurchasedAsync(run, ct);
        await RequireProductsAsync([productId], run, ct);
        run.Exclude([productId]);
        run.Exclude(await purchased);
        var anchors = Anchors.Context([productId]);
        run.AddAnchors(anchors);

        // The vector index is the whole answer here: if it is down the caller must hear so (no silent empty list).
        // It honours the filters itself, so the pool the answer is chosen from is all it needs to return.
        AddNeighbours(run, await NeighboursAsync(anchors, run.PoolSize, run.IndexFilter, ct), anchor: productId);
        return await FinishAsync(run, diversify: true, ct);
    }

    public async Task<RecommendationResult> FrequentlyBoughtTogetherAsync(
        IReadOnlyList<string> productIds, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        using var span = CoreTelemetry.Source.StartActivity("rank.frequently_bought_together");
        // Co-purchases lead; similar items only fill the remaining slots (a new product has no baskets yet).
        var run = new RankingRun(options, profile with { CoPurchaseWeight = 1, SimilarityWeight = 0.01, TrendingWeight = 0, LearnedWeight = 0 }, ct);
        var purchased = PurchasedAsync(run, ct);
        var coPurchases = SignalAsync(run, "co-purchases", (IReadOnlyList<CoPurchase>)[], () => CoPurchasesAsync(productIds, ct));
        await RequireProductsAsync(productIds, run, ct);
        run.Exclude(productIds);
        run.Exclude(await purchased);
        var anchors = Anchors.Context(productIds);
        run.AddAnchors(anchors);

        AddCoPurchases(run, await coPurchases);
        if (run.CandidateCount < options.Limit)
            AddNeighbours(run, await SignalAsync(run, "vector index", NeighbourHits.None, () => NeighboursAsync(anchors, run.PoolSize, run.IndexFilter, ct)), anchor: null);
        return await FinishAsync(run, diversify: false, ct);
    }

    public async Task<RecommendationResult> TrendingAsync(
        string? category, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        using var span = CoreTelemetry.Source.StartActivity("rank.trending");
        var run = new RankingRun(options, profile with { SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 1, LearnedWeight = 0 }, ct);
        var purchased = PurchasedAsync(run, ct);
        // Trending is the whole answer here: a store fault propagates.
        var trending = await history.GetTrendingAsync(string.IsNullOrEmpty(category) ? null : category, SourcePool, ct);
        run.Exclude(await purchased);
        AddTrending(run, trending);
        return await FinishAsync(run, diversify: true, ct);
    }

    public async Task<RecommendationResult> SearchAsync(
        string query, RequestOptions options, RankingProfile profile, CancellationToken ct)
    {
        using var span = CoreTelemetry.Source.StartActivity("rank.search");
        var run = new RankingRun(options, profile with { SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 0, LearnedWeight = 0 }, ct);
        var embedder = await ServingEmbedderAsync(ct);
        var vector = await embedder.EmbedQueryAsync(query, ct);
        var hits = await index.SearchAsync(new VectorQuery(vector, Math.Max(options.Limit, SourcePool / 2), run.IndexFilter), ct);
        foreach (var hit in hits) run.Candidate(hit.ProductId, fromFilteredIndex: true).AddSearchMatch(hit.Score);
        // Search results keep relevance order: diversity would push exact matches down.
        return await FinishAsync(run, diversify: false, ct);
    }

    /// <summary>
    /// Queries are embedded to match the live version (which a re-index may have switched to another dimension); an
    /// index built by a model that is not loaded is refused (FAILED_PRECONDITION upstream).
    /// </summary>
    private async Task<IEmbedder> ServingEmbedderAsync(CancellationToken ct) =>
        await index.GetLiveVersionAsync(ct) is { } live ? embedders.For(live.Spec) : embedders.Default;

    /// <summary>Throws <see cref="ProductNotFoundException"/> for the first named product that does not exist.</summary>
    private async Task RequireProductsAsync(IReadOnlyList<string> productIds, RankingRun run, CancellationToken ct)
    {
        if (productIds.Count == 0) return;
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
            return;
        }
        var missing = productIds.FirstOrDefault(id => !found.ContainsKey(id));
        if (missing is not null) throw new ProductNotFoundException(missing);
    }

    /// <summary>What the user bought, to exclude; nothing when buy-again is asked or the user is anonymous.</summary>
    private Task<IReadOnlySet<string>> PurchasedAsync(RankingRun run, CancellationToken ct) =>
        run.Options.IncludePurchased || run.Options.UserId is not { } user
            ? Task.FromResult<IReadOnlySet<string>>(new HashSet<string>())
            : SignalAsync(run, "history", (IReadOnlySet<string>)new HashSet<string>(), () => history.GetPurchasedProductIdsAsync(user, ct));

    /// <param name="ProfileVector">The anchors' weighted mean the hits are nearest to; null without indexed anchors.</param>
    private sealed record NeighbourHits(IReadOnlyList<VectorHit> Hits, float[]? ProfileVector)
    {
        public static readonly NeighbourHits None = new([], null);
    }

    /// <summary>
    /// Vector neighbours of the anchors' weighted mean embedding, which the index computes where the vectors are: a
    /// heavy customer's hundreds of anchor vectors are not copied out for it.
    /// </summary>
    private async Task<NeighbourHits> NeighboursAsync(Anchors anchors, int count, ProductFilter filter, CancellationToken ct)
    {
        if (anchors.Count == 0) return NeighbourHits.None;
        using var span = CoreTelemetry.Source.StartActivity("rank.vector_neighbours");
        if (await index.WeightedMeanAsync(anchors.Weights, ct) is not { } profileVector) return NeighbourHits.None;
        return new NeighbourHits(await index.SearchAsync(new VectorQuery(profileVector, count, filter), ct), profileVector);
    }

    /// <param name="anchor">The one product they are similar to, or null to attribute each to its nearest anchor.</param>
    private static void AddNeighbours(RankingRun run, NeighbourHits neighbours, string? anchor)
    {
        foreach (var hit in neighbours.Hits) run.Candidate(hit.ProductId, fromFilteredIndex: true).AddNeighbour(hit.Score, anchor);
    }

    /// <summary>
    /// The nearest-neighbour query only scores the products closest to the profile; a product the learned model or the
    /// baskets found may be nearly as close. The leading such candidates get their similarity too, so the blend compares
    /// every candidate on every signal.
    /// </summary>
    private async Task<bool> AddProfileSimilarityAsync(RankingRun run, float[] profileVector, CancellationToken ct)
    {
        var unscored = run.Leading(SimilarityRescorePool).Where(c => c.Similarity == 0).ToDictionary(c => c.ProductId, StringComparer.Ordinal);
        if (unscored.Count == 0) return false;
        foreach (var hit in await index.ScoreAsync(profileVector, unscored.Keys, ct))
            unscored[hit.ProductId].AddSimilarity(hit.Score, anchor: null);
        return true;
    }

    private Task<IReadOnlyList<CoPurchase>> CoPurchasesAsync(IReadOnlyCollection<string> sources, CancellationToken ct) =>
        sources.Count == 0 ? Task.FromResult<IReadOnlyList<CoPurchase>>([]) : history.GetCoPurchasesAsync(sources, CoPurchasesPerSource, ct);

    private static void AddCoPurchases(RankingRun run, IReadOnlyList<CoPurchase> pairs)
    {
        foreach (var pair in pairs)
        {
            // Cosine of basket occurrence: a neighbour bought with everything is not evidence of a bond.
            var association = pair.Count / Math.Sqrt(Math.Max(1, pair.SourceBaskets) * (double)Math.Max(1, pair.NeighbourBaskets));
            run.Candidate(pair.ProductId, fromFilteredIndex: false).AddCoPurchase(association * run.AnchorWeight(pair.SourceProductId), pair.SourceProductId);
        }
    }

    /// <summary>
    /// The model's score of each neighbour: Σ over anchors of anchor presence × learned weight (EASE's x_u·B with the
    /// user's recent items, weighted by intent and recency but not by repeats, as x_u), relative to the best candidate's,
    /// so it blends on the other signals' 0..1 scale.
    /// </summary>
    private static void AddLearned(RankingRun run, ItemToItemModel model, Anchors anchors)
    {
        var anchorIds = anchors.Keys.ToList();
        var board = LearnedScoreBoard.Rent(model.Size);
        try
        {
            for (var a = 0; a < anchorIds.Count; a++)
            {
                if (model.TryGetRow(anchorIds[a], out var positions, out var weights)) board.Add(a, run.AnchorPresence(anchorIds[a]), positions, weights);
            }
            // Only the model's leading products become candidates: a hundred anchors reach thousands of neighbours, and the
            // tail would cost sorting and hydration without ever reaching a page.
            var leading = new PriorityQueue<int, double>(LearnedCandidates);
            foreach (var position in board.Touched)
            {
                var score = board.Score(position);
                if (score <= 0) continue;
                if (leading.Count < LearnedCandidates) leading.Enqueue(position, score);
                // Once full, most scores lose to the weakest leader: a comparison, not a heap insertion and removal each
                // (a heavy customer's anchors touch tens of thousands of positions).
                else if (leading.TryPeek(out _, out var weakest) && score > weakest) leading.DequeueEnqueue(position, score);
            }
            var best = leading.UnorderedItems.Select(e => e.Priority).DefaultIfEmpty(0).Max();
            foreach (var (position, score) in leading.UnorderedItems)
                run.Candidate(model.ProductAt(position), fromFilteredIndex: false).SetLearned(score / best, anchorIds[board.StrongestAnchor(position)]);
        }
        finally
        {
            board.Return();
        }
    }

    /// <summary>Buy-again: the customer's purchased anchors themselves, as strong as their recency and count made them.</summary>
    private static void AddRepeats(RankingRun run, Anchors anchors)
    {
        foreach (var anchorId in anchors.Keys)
        {
            if (anchors[anchorId] is { Type: EventType.Purchase } anchor) run.Candidate(anchorId, fromFilteredIndex: false).SetRepeat(anchor.Weight);
        }
    }

    /// <summary>Popularity relative to the most popular product returned, in (0, 1].</summary>
    private static void AddTrending(RankingRun run, IReadOnlyList<TrendingProduct> trending)
    {
        if (trending.Count == 0) return;
        var top = trending[0].LogScore;
        foreach (var item in trending)
            run.Candidate(item.ProductId, fromFilteredIndex: false).AddTrending(Math.Exp(item.LogScore - top), item.Category);
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

    /// <summary>Consecutive chunks of <paramref name="source"/>, the first of <paramref name="size"/> items, each next one twice as large.</summary>
    private static IEnumerable<T[]> GrowingChunks<T>(IEnumerable<T> source, int size)
    {
        var chunk = new List<T>(size);
        foreach (var item in source)
        {
            chunk.Add(item);
            if (chunk.Count < size) continue;
            yield return chunk.ToArray();
            chunk.Clear();
            size *= 2;
        }
        if (chunk.Count > 0) yield return chunk.ToArray();
    }

    private async Task<RecommendationResult> FinishAsync(RankingRun run, bool diversify, CancellationToken ct)
    {
        using var span = CoreTelemetry.Source.StartActivity("rank.hydrate_filter_diversify");
        span?.SetTag("recommend.candidates", run.CandidateCount);
        // λ = 1 is pure relevance: MMR would keep the order, so neither it nor the vectors it compares are needed.
        diversify &= run.Profile.DiversityLambda < 1;
        // Without MMR the answer is the leading eligible candidates: only they need hydrating.
        var poolSize = diversify ? run.PoolSize : run.Options.Limit;
        var pool = new List<ScoredCandidate>(poolSize);
        var products = new Dictionary<string, Product>(StringComparer.Ordinal);
        var catalogDown = false;
        IEnumerable<string> anchorIds = run.LikelyReasonAnchors; // their titles explain the reasons

        // Hydrate in score order, a chunk at a time: most answers fill their pool from the first chunk, and when filters
        // reject many candidates each further chunk is twice as large, so a narrow filter costs few round trips.
        foreach (var chunk in GrowingChunks(run.Ranked(), poolSize))
        {
            if (!catalogDown)
            {
                var ids = chunk.Select(c => c.Candidate.ProductId).Concat(anchorIds).Distinct(StringComparer.Ordinal).ToList();
                anchorIds = [];
                var found = await SignalAsync(run, "catalog", (IReadOnlyDictionary<string, Product>?)null,
                    async () => await catalog.GetProductsAsync(ids, ct));
                if (found is null) catalogDown = true;
                else foreach (var (id, product) in found) products[id] = product;
            }
            foreach (var (candidate, score) in chunk)
            {
                if (run.Eligible(candidate, score, catalogDown ? null : products) is { } eligible) pool.Add(eligible);
            }
            if (pool.Count >= poolSize) break;
        }

        IReadOnlyDictionary<string, float[]> vectors = new Dictionary<string, float[]>();
        if (pool.Count > 0 && diversify)
        {
            vectors = await SignalAsync(run, "vector index", vectors,
                () => index.GetVectorsAsync(pool.Select(c => c.Candidate.ProductId).ToList(), ct));
        }

        var chosen = diversify
            ? Mmr.Select(pool, vectors, run.Options.Limit, run.Profile.DiversityLambda)
            : pool.Take(run.Options.Limit).ToList();
        IReadOnlyDictionary<string, string> nearestAnchors = new Dictionary<string, string>();
        if (run.AnchorIds.Count > 0 && run.Unattributed(chosen) is { Count: > 0 } unattributed)
        {
            nearestAnchors = await SignalAsync(run, "vector index", nearestAnchors,
                () => index.NearestAmongAsync(unattributed, run.AnchorIds, ct));
        }
        if (!catalogDown && run.ReasonAnchors(chosen, nearestAnchors).Where(id => !products.ContainsKey(id)).ToList() is { Count: > 0 } unread)
        {
            // A title missing from a reason is not worth failing the answer for: the reason falls back to the id.
            var found = await SignalAsync(run, "catalog", (IReadOnlyDictionary<string, Product>)new Dictionary<string, Product>(),
                async () => await catalog.GetProductsAsync(unread, ct));
            foreach (var (id, product) in found) products[id] = product;
        }
        return run.Result(chosen, nearestAnchors, catalogDown ? null : products);
    }
}
