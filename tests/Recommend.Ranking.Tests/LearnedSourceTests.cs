using Microsoft.Extensions.Logging.Abstractions;
using Recommend.Core.Learning;
using Recommend.Core.Ranking;
using Recommend.Training;
using static Recommend.Ranking.Tests.RankingWorld;

namespace Recommend.Ranking.Tests;

/// <summary>The learned item-to-item model as a candidate source: its reasons, its weight, its cold-start stand-in, and fresh events.</summary>
public sealed class LearnedSourceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly RankingProfile LearnedOnly = RankingProfile.Default with
    {
        Sources = CandidateSources.Learned, LearnedWeight = 1, SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 0, DiversityLambda = 1,
    };

    private readonly RankingWorld world = new();

    public async Task InitializeAsync()
    {
        await world.AddProductsAsync(
            Product("mug-stripes", "BLUE STRIPY MUG", "Kitchen"),
            Product("teapot", "BLUE STRIPY TEAPOT", "Kitchen"),
            Product("bag-jumbo", "JUMBO BAG RED RETROSPOT", "Bags"),
            Product("bag-lunch", "LUNCH BAG RED RETROSPOT", "Bags"),
            Product("candle-red", "RED SCENTED CANDLE", "Candles"));
        for (var i = 0; i < 5; i++) await world.BuyAsync($"shopper{i}", $"o-mug{i}", Day(i), "mug-stripes", "teapot");
        // Bag buyers come back for lunch bags on a later order: a cross-order pattern the learned model sees and basket counts do not.
        for (var i = 0; i < 5; i++)
        {
            await world.BuyAsync($"bagger{i}", $"o-jumbo{i}", Day(i), "bag-jumbo");
            await world.BuyAsync($"bagger{i}", $"o-lunch{i}", Day(i + 1), "bag-lunch");
        }
    }

    public async Task DisposeAsync() => await world.DisposeAsync();

    private static ItemToItemModel Model(long version, params (string Source, string Neighbour, float Weight)[] pairs) =>
        new(new ItemModelInfo(version, Day(30), "test", pairs.Length, pairs.Length, 0, TimeSpan.Zero),
            pairs.GroupBy(p => p.Source).ToDictionary(g => g.Key, g => g.Select(p => new ItemNeighbour(p.Neighbour, p.Weight)).OrderByDescending(n => n.Weight).ToArray()));

    [Fact]
    public async Task Learned_neighbours_come_with_a_customers_also_bought_reason_naming_the_product_bought()
    {
        world.LearnedModel.Offer(Model(1, ("mug-stripes", "candle-red", 0.9f), ("mug-stripes", "bag-lunch", 0.3f)));
        await world.BuyAsync("new-customer", "o-new", Day(10), "mug-stripes");

        var result = await world.Engine.RecommendAsync([], Options("new-customer"), LearnedOnly, None);

        Assert.Equal(["candle-red", "bag-lunch"], result.Items.Select(i => i.Product.Id));
        var reason = Assert.Single(result.Items[0].Reasons);
        Assert.Equal(ReasonKind.CustomersAlsoBought, reason.Kind);
        Assert.Equal("mug-stripes", reason.RelatedProductId);
        Assert.Equal("Customers who bought BLUE STRIPY MUG also bought this", reason.Text);
        // Normalised to the best candidate's score, then weighted by the profile.
        Assert.Equal(1.0, result.Items[0].Score, 6);
        Assert.Equal(0.3 / 0.9, result.Items[1].Score, 6);
    }

    [Fact]
    public async Task The_strongest_of_more_learned_neighbours_than_the_engine_takes_lead_even_when_they_are_reached_last()
    {
        // 400 neighbours, more than the engine takes from the model (300). The mug's row reaches them all weakly, from
        // n399 down to n000; the teapot's row strengthens n000–n099, so the strongest are the last the mug's row reaches.
        var ids = Enumerable.Range(0, 400).Select(i => $"n{i:D3}").ToArray();
        await world.AddProductsAsync(ids.Select(id => Product(id, $"NEIGHBOUR {id}", "Misc")).ToArray());
        world.LearnedModel.Offer(Model(1,
            [.. ids.Reverse().Select(id => ("mug-stripes", id, 0.1f)), .. ids.Take(100).Select(id => ("teapot", id, 0.5f))]));
        await world.BuyAsync("new-customer", "o-new", Day(10), "mug-stripes", "teapot");

        var result = await world.Engine.RecommendAsync([], Options("new-customer"), LearnedOnly, None);

        Assert.Equal(10, result.Items.Count);
        Assert.All(result.Items, item =>
        {
            Assert.Contains(item.Product.Id, ids.Take(100));
            Assert.Equal(1.0, item.Score, 6);
        });
    }

    [Fact]
    public async Task The_learned_weight_moves_the_blend()
    {
        world.LearnedModel.Offer(Model(1, ("mug-stripes", "candle-red", 0.9f)));
        await world.BuyAsync("new-customer", "o-new", Day(10), "mug-stripes");
        var blend = RankingProfile.Default with { Sources = CandidateSources.Learned | CandidateSources.BoughtTogether, SimilarityWeight = 0, TrendingWeight = 0, DiversityLambda = 1 };

        var coPurchaseLed = await world.Engine.RecommendAsync([], Options("new-customer"), blend with { LearnedWeight = 0.1, CoPurchaseWeight = 1 }, None);
        var learnedLed = await world.Engine.RecommendAsync([], Options("new-customer"), blend with { LearnedWeight = 5, CoPurchaseWeight = 1 }, None);

        Assert.Equal("teapot", coPurchaseLed.Items[0].Product.Id);
        Assert.Equal("candle-red", learnedLed.Items[0].Product.Id);
    }

    [Fact]
    public async Task Before_the_first_model_co_purchase_counts_stand_in()
    {
        await world.BuyAsync("new-customer", "o-new", Day(10), "mug-stripes");

        var result = await world.Engine.RecommendAsync([], Options("new-customer"), LearnedOnly, None);

        Assert.Equal("teapot", result.Items[0].Product.Id);
        Assert.Equal(ReasonKind.BoughtTogether, result.Items[0].Reasons[0].Kind);
        Assert.False(result.Degraded);
    }

    [Fact]
    public async Task A_model_trained_from_the_store_learns_what_customers_buy_on_later_orders()
    {
        var options = new TrainingOptions { Neighbours = 10, Lambda = 1 };
        var trainer = new ItemModelTrainer(world.Store, world.Store, world.LearnedModel, options, TimeProvider.System, NullLogger<ItemModelTrainer>.Instance);
        var info = await trainer.TrainAsync(null, None);
        await world.BuyAsync("new-customer", "o-new", Day(10), "bag-jumbo");

        var result = await world.Engine.RecommendAsync([], Options("new-customer"), LearnedOnly, None);

        Assert.NotNull(info);
        Assert.Equal(info.Version, world.LearnedModel.Current!.Info.Version);
        Assert.Equal("bag-lunch", result.Items[0].Product.Id);
        Assert.Equal(ReasonKind.CustomersAlsoBought, result.Items[0].Reasons[0].Kind);
        Assert.Equal("bag-jumbo", result.Items[0].Reasons[0].RelatedProductId);
    }

    [Fact]
    public async Task A_purchase_recorded_now_changes_the_next_answer_without_retraining()
    {
        world.LearnedModel.Offer(Model(1, ("mug-stripes", "candle-red", 0.9f), ("mug-stripes", "bag-lunch", 0.5f), ("bag-jumbo", "teapot", 0.8f)));
        await world.BuyAsync("new-customer", "o-new", Day(10), "mug-stripes");
        var before = await world.Engine.RecommendAsync([], Options("new-customer"), LearnedOnly, None);

        await world.BuyAsync("new-customer", "o-next", Day(11), "candle-red", "bag-jumbo");
        var after = await world.Engine.RecommendAsync([], Options("new-customer"), LearnedOnly, None);

        Assert.Equal("candle-red", before.Items[0].Product.Id);
        // Bought now: excluded; and the new purchase anchors the model's neighbours (teapot) with the most recent weight.
        Assert.DoesNotContain(after.Items, i => i.Product.Id == "candle-red");
        Assert.Equal("teapot", after.Items[0].Product.Id);
        Assert.Equal("bag-jumbo", after.Items[0].Reasons[0].RelatedProductId);
    }

    [Fact]
    public async Task The_model_hears_what_a_customer_bought_not_how_often()
    {
        // EASE was fitted on whether customers bought a product: the mug bought in four orders and the bag bought once,
        // on the same day, weigh the same as the model's input, so the bag's stronger neighbour leads.
        world.LearnedModel.Offer(Model(1, ("mug-stripes", "candle-red", 0.5f), ("bag-jumbo", "teapot", 0.6f)));
        for (var order = 0; order < 4; order++) await world.BuyAsync("reorderer", $"o-re{order}", Day(10), "mug-stripes");
        await world.BuyAsync("reorderer", "o-re-bag", Day(10), "bag-jumbo");

        var result = await world.Engine.RecommendAsync([], Options("reorderer"), LearnedOnly, None);

        Assert.Equal(["teapot", "candle-red"], result.Items.Select(i => i.Product.Id));
        Assert.Equal(0.5 / 0.6, result.Items[1].Score, 6);
    }

    [Fact]
    public void A_newer_model_replaces_an_older_one_never_the_reverse()
    {
        Assert.True(world.LearnedModel.Offer(Model(2, ("a", "b", 1))));
        Assert.False(world.LearnedModel.Offer(Model(1, ("a", "c", 1))));
        Assert.Equal(2, world.LearnedModel.Current!.Info.Version);
    }
}
