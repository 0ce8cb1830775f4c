using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.Ranking;
using Recommend.Core.Vectors;
using static Recommend.Ranking.Tests.RankingWorld;

namespace Recommend.Ranking.Tests;

public sealed class RankingTests : IAsyncLifetime
{
    private readonly RankingWorld world = new();
    private static readonly CancellationToken None = CancellationToken.None;

    public async Task InitializeAsync()
    {
        await world.AddProductsAsync(
            Product("candle-red", "RED SCENTED CANDLE", "Candles", 3),
            Product("candle-white", "WHITE SCENTED CANDLE", "Candles", 4),
            Product("candle-holder", "GLASS CANDLE HOLDER", "Candles", 6),
            Product("tlight-heart", "WHITE HANGING HEART T-LIGHT HOLDER", "Candles", 2.55, inStock: false),
            Product("mug-spots", "RED SPOTTY MUG", "Kitchen", 2),
            Product("mug-stripes", "BLUE STRIPY MUG", "Kitchen", 2.5),
            Product("teapot", "BLUE STRIPY TEAPOT", "Kitchen", 15),
            Product("bag-jumbo", "JUMBO BAG RED RETROSPOT", "Bags", 1.95),
            Product("bag-lunch", "LUNCH BAG RED RETROSPOT", "Bags", 1.65));
        // Baskets: mugs go with the teapot; bags go together; candles with holders.
        for (var i = 0; i < 6; i++) await world.BuyAsync($"shopper{i}", $"o-mug{i}", Day(i), "mug-stripes", "teapot");
        for (var i = 0; i < 4; i++) await world.BuyAsync($"shopper{i}", $"o-bag{i}", Day(i), "bag-jumbo", "bag-lunch");
        for (var i = 0; i < 3; i++) await world.BuyAsync($"shopper{i}", $"o-candle{i}", Day(i), "candle-red", "candle-holder");
    }

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task An_unknown_user_gets_trending_items_with_trending_reasons()
    {
        var result = await world.Engine.RecommendAsync([], Options(user: "nobody"), RankingProfile.Default, None);

        Assert.NotEmpty(result.Items);
        Assert.False(result.Degraded);
        // The mug basket was bought most often: its products lead the cold-start answer.
        Assert.Contains(result.Items[0].Product.Id, new[] { "mug-stripes", "teapot" });
        Assert.All(result.Items, item => Assert.Equal(ReasonKind.Trending, item.Reasons[0].Kind));
        Assert.Equal(32, result.RecommendationId.Length);
    }

    [Fact]
    public async Task Recommendations_share_one_trending_read_per_second()
    {
        var clock = new FakeTimeProvider();
        var engine = new RecommendationEngine(world.Store, world.Store, world.Index, IEmbedderProvider.Create(world.Embedder), world.LearnedModel,
            NullLogger<RecommendationEngine>.Instance, clock);
        var before = await engine.RecommendAsync([], Options(user: "nobody"), RankingProfile.Default, None);
        // The candle basket overtakes the others.
        for (var i = 0; i < 12; i++) await world.BuyAsync($"fan{i}", $"o-fan{i}", Day(9), "candle-red", "candle-white");

        clock.Advance(TimeSpan.FromMilliseconds(900));
        var shared = await engine.RecommendAsync([], Options(user: "nobody"), RankingProfile.Default, None);
        clock.Advance(TimeSpan.FromMilliseconds(200));
        var reread = await engine.RecommendAsync([], Options(user: "nobody"), RankingProfile.Default, None);

        Assert.Equal(before.Items.Select(i => i.Product.Id), shared.Items.Select(i => i.Product.Id));
        Assert.Contains(reread.Items[0].Product.Id, new[] { "candle-red", "candle-white" });
        // The Trending call itself reads the store every time.
        Assert.Contains((await engine.TrendingAsync(null, Options(), RankingProfile.Default, None)).Items[0].Product.Id, new[] { "candle-red", "candle-white" });
    }

    [Fact]
    public async Task Similar_products_rank_by_text_similarity_and_name_the_anchor()
    {
        var result = await world.Engine.SimilarProductsAsync("candle-red", Options(), RankingProfile.Default, None);

        Assert.DoesNotContain(result.Items, i => i.Product.Id == "candle-red");
        Assert.Equal("candle-white", result.Items[0].Product.Id);
        var reason = Assert.Single(result.Items[0].Reasons);
        Assert.Equal(ReasonKind.Similar, reason.Kind);
        Assert.Equal("candle-red", reason.RelatedProductId);
        Assert.Contains("RED SCENTED CANDLE", reason.Text);
        Assert.True(result.Items.Zip(result.Items.Skip(1)).All(p => p.First.Score >= p.Second.Score) || result.Items.Count > 1);
    }

    [Fact]
    public async Task Unknown_products_are_not_found()
    {
        await Assert.ThrowsAsync<ProductNotFoundException>(() => world.Engine.SimilarProductsAsync("nope", Options(), RankingProfile.Default, None));
        var missing = await Assert.ThrowsAsync<ProductNotFoundException>(() =>
            world.Engine.FrequentlyBoughtTogetherAsync(["teapot", "nope"], Options(), RankingProfile.Default, None));
        Assert.Equal("nope", missing.ProductId);
        await Assert.ThrowsAsync<ProductNotFoundException>(() => world.Engine.RecommendAsync(["nope"], Options(), RankingProfile.Default, None));
    }

    [Fact]
    public async Task Frequently_bought_together_ranks_co_purchases_first_with_their_reason()
    {
        var result = await world.Engine.FrequentlyBoughtTogetherAsync(["teapot"], Options(), RankingProfile.Default, None);

        Assert.Equal("mug-stripes", result.Items[0].Product.Id);
        var reason = result.Items[0].Reasons[0];
        Assert.Equal(ReasonKind.BoughtTogether, reason.Kind);
        Assert.Equal("teapot", reason.RelatedProductId);
        Assert.DoesNotContain(result.Items, i => i.Product.Id == "teapot");
    }

    [Fact]
    public async Task Similar_products_in_a_small_category_fill_the_limit_even_with_products_that_share_nothing_with_the_anchor()
    {
        var garden = Enumerable.Range(0, 30).Select(i => Product($"garden-{i}", $"GARDEN TROWEL {i}", "Garden", 4)).ToArray();
        await world.AddProductsAsync(garden);
        // Thirty garden products pointing away from the candle: every cosine to it is negative.
        var anchor = (await world.Index.GetVectorsAsync(["candle-red"], None))["candle-red"];
        var live = (await world.Index.GetLiveVersionAsync(None))!.Name;
        await world.Index.UpsertAsync(live, garden.Select((p, i) =>
            new VectorRecord(p.Id, anchor.Select((x, d) => -x + (d == i ? 0.5f : 0)).ToArray(), p.Category, p.Price, p.InStock, p.Title)).ToList(), None);
        var inGarden = new ProductFilter(new HashSet<string> { "Garden" }, null, null, false, new HashSet<string>());

        var result = await world.Engine.SimilarProductsAsync("candle-red", Options(filter: inGarden, limit: 20), RankingProfile.Default, None);

        Assert.Equal(20, result.Items.Count);
        Assert.All(result.Items, item =>
        {
            Assert.Equal("Garden", item.Product.Category);
            var reason = Assert.Single(item.Reasons);
            Assert.Equal(ReasonKind.Similar, reason.Kind);
            Assert.Equal("candle-red", reason.RelatedProductId);
        });
        var all = await world.Engine.SimilarProductsAsync("candle-red", Options(filter: inGarden, limit: 100), RankingProfile.Default, None);
        Assert.Equal(30, all.Items.Count);
        Assert.Equal(all.Items.Take(20).Select(i => i.Product.Id), result.Items.Select(i => i.Product.Id));
    }

    [Fact]
    public async Task Hard_filters_hold_for_every_item()
    {
        await world.AddProductsAsync(Product("candle-blue", "BLUE SCENTED CANDLE", "Candles", 3.5));
        var filter = new ProductFilter(new HashSet<string> { "Candles", "Kitchen" }, MinPrice: 2.5, MaxPrice: 6, InStockOnly: true,
            ExcludeProductIds: new HashSet<string> { "candle-white" });

        var results = new[]
        {
            await world.Engine.RecommendAsync(["candle-red"], Options(user: "shopper1", filter: filter, limit: 100), RankingProfile.Default, None),
            await world.Engine.SimilarProductsAsync("candle-red", Options(filter: filter, limit: 100), RankingProfile.Default, None),
            await world.Engine.TrendingAsync(null, Options(filter: filter, limit: 100), RankingProfile.Default, None),
            await world.Engine.SearchAsync("candle", Options(filter: filter, limit: 100), RankingProfile.Default, None),
        };

        foreach (var result in results)
        {
            Assert.NotEmpty(result.Items);
            Assert.All(result.Items, item =>
            {
                Assert.Contains(item.Product.Category, new[] { "Candles", "Kitchen" });
                Assert.InRange(item.Product.Price, 2.5, 6);
                Assert.True(item.Product.InStock);
                Assert.NotEqual("candle-white", item.Product.Id);
            });
        }
    }

    [Fact]
    public async Task A_short_page_under_a_filter_is_the_head_of_a_long_one()
    {
        // Only the page is hydrated (no MMR by default), in growing chunks while the filter rejects candidates: the
        // first items must be the same whatever the limit.
        await world.AddProductsAsync(
            Product("jug-spots", "RED SPOTTY MILK JUG", "Kitchen", 4),
            Product("bowl-spots", "RED SPOTTY BOWL", "Kitchen", 3),
            Product("tin-cake", "RED RETROSPOT CAKE TIN", "Kitchen", 5));
        var filter = new ProductFilter(new HashSet<string> { "Kitchen" }, MinPrice: null, MaxPrice: null, InStockOnly: false, ExcludeProductIds: new HashSet<string>());
        var everything = await world.Engine.RecommendAsync(["candle-red"], Options(user: "shopper1", filter: filter, limit: 100), RankingProfile.Default, None);
        Assert.True(everything.Items.Count >= 3, "the world needs a few kitchen products");
        foreach (var limit in new[] { 1, 2, 3 })
        {
            var page = await world.Engine.RecommendAsync(["candle-red"], Options(user: "shopper1", filter: filter, limit: limit), RankingProfile.Default, None);
            Assert.Equal(everything.Items.Take(limit).Select(i => i.Product.Id), page.Items.Select(i => i.Product.Id));
        }
    }

    [Fact]
    public async Task Purchased_items_are_excluded_unless_buy_again_is_asked()
    {
        var withoutBuyAgain = await world.Engine.RecommendAsync([], Options(user: "shopper0", limit: 100), RankingProfile.Default, None);
        var buyAgain = await world.Engine.RecommendAsync([], Options(user: "shopper0", limit: 100, includePurchased: true), RankingProfile.Default, None);

        string[] bought = ["mug-stripes", "teapot", "bag-jumbo", "bag-lunch", "candle-red", "candle-holder"];
        Assert.DoesNotContain(withoutBuyAgain.Items, i => bought.Contains(i.Product.Id));
        Assert.Contains(buyAgain.Items, i => bought.Contains(i.Product.Id));
    }

    [Fact]
    public async Task Buy_again_brings_back_the_customers_own_purchases_most_recent_and_most_bought_first()
    {
        await world.BuyAsync("regular", "o-r1", Day(1), "candle-red");
        await world.BuyAsync("regular", "o-r2", Day(5), "mug-spots");
        await world.BuyAsync("regular", "o-r3", Day(6), "mug-spots");
        var profile = RankingProfile.Default with { BuyAgainWeight = 10 };

        var again = await world.Engine.RecommendAsync([], Options(user: "regular", includePurchased: true), profile, None);
        var fresh = await world.Engine.RecommendAsync([], Options(user: "regular"), profile, None);

        Assert.Equal(["mug-spots", "candle-red"], again.Items.Take(2).Select(i => i.Product.Id));
        var reason = again.Items[0].Reasons[0];
        Assert.Equal(ReasonKind.BuyAgain, reason.Kind);
        Assert.Equal("mug-spots", reason.RelatedProductId);
        Assert.Equal("You bought this before", reason.Text);
        Assert.DoesNotContain(fresh.Items, i => i.Reasons.Any(r => r.Kind == ReasonKind.BuyAgain) || i.Product.Id is "mug-spots" or "candle-red");
    }

    [Fact]
    public async Task A_purchase_changes_the_very_next_recommendation()
    {
        await world.AddProductsAsync(Product("saucer", "BLUE STRIPY SAUCER", "Kitchen", 1));
        for (var i = 0; i < 5; i++) await world.BuyAsync($"fan{i}", $"o-saucer{i}", Day(10), "saucer", "mug-spots");
        var before = await world.Engine.RecommendAsync([], Options(user: "newbie"), RankingProfile.Default, None);
        Assert.DoesNotContain(before.Items, i => i.Reasons.Any(r => r.Kind == ReasonKind.BoughtTogether));

        await world.BuyAsync("newbie", "o-newbie", Day(11), "mug-spots");
        var after = await world.Engine.RecommendAsync([], Options(user: "newbie"), RankingProfile.Default, None);

        Assert.DoesNotContain(after.Items, i => i.Product.Id == "mug-spots");
        var saucer = Assert.Single(after.Items, i => i.Product.Id == "saucer");
        Assert.Contains(saucer.Reasons, r => r.Kind == ReasonKind.BoughtTogether && r.RelatedProductId == "mug-spots");
        Assert.Equal("saucer", after.Items[0].Product.Id);
    }

    [Fact]
    public async Task History_neighbours_explain_themselves_by_the_item_they_follow()
    {
        await world.ViewAsync("browser", Day(20), "candle-white");
        var result = await world.Engine.RecommendAsync([], Options(user: "browser"), RankingProfile.Default, None);

        var candle = result.Items.First(i => i.Product.Category == "Candles");
        var history = Assert.Single(candle.Reasons, r => r.Kind == ReasonKind.History);
        Assert.Equal("candle-white", history.RelatedProductId);
        Assert.StartsWith("Because you viewed", history.Text);
    }

    [Fact]
    public async Task Context_items_steer_recommendations_and_are_not_recommended_back()
    {
        var result = await world.Engine.RecommendAsync(["bag-jumbo"], Options(user: "nobody"), RankingProfile.Default, None);

        Assert.DoesNotContain(result.Items, i => i.Product.Id == "bag-jumbo");
        Assert.Equal("bag-lunch", result.Items[0].Product.Id);
        Assert.Contains(result.Items[0].Reasons, r => r.RelatedProductId == "bag-jumbo");
    }

    [Fact]
    public async Task Years_old_history_still_forms_a_profile_with_finite_scores()
    {
        await world.BuyAsync("old-timer", "o-2009", new DateTimeOffset(2009, 3, 1, 0, 0, 0, TimeSpan.Zero), "candle-red");
        await world.ViewAsync("old-timer", new DateTimeOffset(2009, 2, 1, 0, 0, 0, TimeSpan.Zero), "mug-spots");

        var result = await world.Engine.RecommendAsync([], Options(user: "old-timer"), RankingProfile.Default, None);

        Assert.NotEmpty(result.Items);
        Assert.All(result.Items, i => Assert.True(double.IsFinite(i.Score) && i.Score > 0));
        Assert.Contains(result.Items, i => i.Reasons.Any(r => r.Kind == ReasonKind.History));
    }

    [Fact]
    public async Task Deleted_products_are_never_recommended()
    {
        await world.Catalog.DeleteAsync(["teapot", "candle-white"], None);

        var results = new[]
        {
            await world.Engine.TrendingAsync(null, Options(limit: 100), RankingProfile.Default, None),
            await world.Engine.FrequentlyBoughtTogetherAsync(["mug-stripes"], Options(limit: 100), RankingProfile.Default, None),
            await world.Engine.SimilarProductsAsync("candle-red", Options(limit: 100), RankingProfile.Default, None),
            await world.Engine.RecommendAsync(["mug-stripes"], Options(user: "shopper5", limit: 100, includePurchased: true), RankingProfile.Default, None),
        };
        Assert.All(results, r => Assert.DoesNotContain(r.Items, i => i.Product.Id is "teapot" or "candle-white"));
    }

    [Fact]
    public async Task Diversity_breaks_up_near_duplicates()
    {
        await world.AddProductsAsync(
            Product("mug-spots-2", "RED SPOTTY MUG LARGE", "Kitchen", 2),
            Product("mug-spots-3", "RED SPOTTY MUG SMALL", "Kitchen", 2),
            Product("spots-plate", "RED SPOTTY PLATE", "Kitchen", 2));
        var relevanceOnly = RankingProfile.Default with { DiversityLambda = 1 };
        var diverse = RankingProfile.Default with { DiversityLambda = 0.3 };

        var plain = await world.Engine.SimilarProductsAsync("mug-spots", Options(limit: 3), relevanceOnly, None);
        var mixed = await world.Engine.SimilarProductsAsync("mug-spots", Options(limit: 3), diverse, None);

        Assert.Equal(["mug-spots-2", "mug-spots-3"], plain.Items.Take(2).Select(i => i.Product.Id).Order());
        Assert.NotEqual(plain.Items.Select(i => i.Product.Id), mixed.Items.Select(i => i.Product.Id));
        Assert.Contains(mixed.Items, i => !i.Product.Title.Contains("MUG", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Trending_within_a_category_stays_in_it()
    {
        var result = await world.Engine.TrendingAsync("Bags", Options(), RankingProfile.Default, None);

        Assert.Equal(["bag-jumbo", "bag-lunch"], result.Items.Select(i => i.Product.Id).Order());
        Assert.All(result.Items, i => Assert.Equal("Trending in Bags", i.Reasons[0].Text));
    }

    [Fact]
    public async Task Search_finds_matching_titles_with_search_reasons()
    {
        var result = await world.Engine.SearchAsync("stripy teapot", Options(limit: 3), RankingProfile.Default, None);

        Assert.Equal("teapot", result.Items[0].Product.Id);
        Assert.Equal(ReasonKind.Search, result.Items[0].Reasons[0].Kind);
    }

    [Fact]
    public async Task Search_refuses_an_index_built_by_another_model()
    {
        var other = await world.Index.CreateVersionAsync(new IndexSpec("another-model", 256), None);
        await world.Index.SetLiveVersionAsync(other.Name, None);

        await Assert.ThrowsAsync<IndexSpecMismatchException>(() => world.Engine.SearchAsync("teapot", Options(), RankingProfile.Default, None));
        await Assert.ThrowsAsync<IndexSpecMismatchException>(() => world.AddProductsAsync(Product("x", "X")));
    }
}
