using Microsoft.Extensions.Configuration;
using Recommend.Core.Catalog;
using Recommend.Core.Ranking;

namespace Recommend.Evaluation.Tests;

/// <summary>The split cuts the history at one instant, and nothing from after it reaches the stores, the model or the baselines.</summary>
public sealed class SplitTests
{
    private static readonly DateTimeOffset Split = new(2011, 11, 9, 0, 0, 0, TimeSpan.Zero);

    private static Product Product(string id, string title) => new(id, title, "", "", 1, true, Core.Catalog.Product.NoAttributes);

    [Fact]
    public void Cases_are_customers_with_history_and_targets_follow_the_setting()
    {
        Purchase[] purchases =
        [
            new("u1", "a", Split.AddDays(-3), "o1", 1, 1), new("u1", "b", Split.AddDays(-3), "o1", 1, 1),
            new("u1", "a", Split.AddDays(2), "o2", 1, 1), new("u1", "c", Split.AddDays(2), "o2", 1, 1),
            new("u2", "a", Split.AddDays(-1), "o3", 1, 1), new("u2", "a", Split, "o4", 1, 1), // a repeat only, at the split instant
            new("u3", "c", Split.AddDays(1), "o5", 1, 1), // no history: not a case
        ];
        var parts = new TimeSplit(Split, null).Split(purchases);

        var newItems = TimeSplit.Cases(parts, Setting.NewItems);
        var buyAgain = TimeSplit.Cases(parts, Setting.BuyAgain);

        Assert.Equal(3, parts.Train.Count);
        Assert.Equal(["c"], Assert.Single(newItems).Targets);
        Assert.Equal(["u1", "u2"], buyAgain.Select(c => c.UserId));
        Assert.Equal(["a", "c"], buyAgain[0].Targets.Order());
        Assert.Equal(["a"], buyAgain[1].Targets);
    }

    /// <summary>
    /// A product bought once before the split and by every customer after it: had any of the evaluation period leaked
    /// into the store or the baselines, it would be the most popular, trending product and lead every list.
    /// </summary>
    [Fact]
    public async Task A_product_planted_in_the_evaluation_period_is_never_learned_from()
    {
        var products = Enumerable.Range(0, 12).Select(i => Product($"p{i}", $"GIFT NUMBER {i}"))
            .Append(Product("planted", "PLANTED GIFT")).Append(Product("solo", "SOLO GIFT")).ToList();
        // Before the split only u0 bought it, with a product nobody else bought: nothing ties it to anyone else's history.
        var purchases = new List<Purchase> { new("u0", "planted", Split.AddDays(-30), "o-first", 1, 1), new("u0", "solo", Split.AddDays(-30), "o-first", 1, 1) };
        for (var u = 0; u < 20; u++)
        {
            if (u > 0)
            {
                purchases.Add(new($"u{u}", $"p{u % 12}", Split.AddDays(-20 + u % 5), $"o-{u}", 1, 1));
                purchases.Add(new($"u{u}", $"p{(u + 1) % 12}", Split.AddDays(-20 + u % 5), $"o-{u}", 1, 1));
            }
            purchases.Add(new($"u{u}", "planted", Split.AddDays(1), $"o-late-{u}", 100, 1));
        }
        var dataset = new EvaluationDataset("planted", products, purchases.OrderBy(p => p.OccurredAt).ToList());
        var parts = new TimeSplit(Split, null).Split(dataset.Purchases);
        var cases = TimeSplit.Cases(parts, Setting.NewItems);

        var baselines = await Baselines.FitAsync(parts.Train, CancellationToken.None);
        await using var service = await EvaluatedService.BuildAsync(new ConfigurationBuilder().Build(), Evaluator.CatalogAtSplit(dataset, parts),
            parts.Train, null, CancellationToken.None);

        Assert.Equal(parts.Train.Count, service.Model!.Purchases);
        var rankers = new[] { baselines.Popularity(), baselines.Ease(CancellationToken.None), service.Ranker("default", service.DefaultProfile) }
            .Concat(Evaluator.SourcesAlone(service.DefaultProfile).Select(s => service.Ranker(s.Name, s.Profile)));
        foreach (var ranker in rankers)
        {
            foreach (var testCase in cases)
            {
                var ranked = await ranker.RankAsync(testCase.UserId, Setting.NewItems, 10, CancellationToken.None);
                Assert.True(ranked.Count == 0 || ranked[0] != "planted", $"{ranker.Name} put the planted product first for {testCase.UserId}");
            }
        }
        Assert.Equal(19, cases.Count); // everyone but u0 bought it new
    }

    [Fact]
    public void The_catalog_at_the_split_leaves_out_products_first_sold_after_it()
    {
        var dataset = new EvaluationDataset("d", [Product("old", "OLD"), Product("new", "NEW"), Product("unsold", "UNSOLD")],
            [new("u1", "old", Split.AddDays(-1), "o1", 1, 1), new("u1", "new", Split.AddDays(1), "o2", 1, 1)]);

        var catalog = Evaluator.CatalogAtSplit(dataset, new TimeSplit(Split, null).Split(dataset.Purchases));

        Assert.Equal(["old", "unsold"], catalog.Select(p => p.Id));
    }
}
