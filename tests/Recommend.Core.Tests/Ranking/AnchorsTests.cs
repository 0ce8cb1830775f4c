using Recommend.Core.History;
using Recommend.Core.Ranking;

namespace Recommend.Core.Tests.Ranking;

public class AnchorsTests
{
    private static readonly DateTimeOffset Latest = new(2011, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly RankingProfile Profile = RankingProfile.Default with { ProfileHalfLife = TimeSpan.FromDays(10) };

    [Fact]
    public void Recency_halves_the_weight_every_half_life_back_from_the_users_own_latest_event()
    {
        var anchors = Anchors.From(
            [new Interaction("new", EventType.Purchase, Latest, 1), new Interaction("old", EventType.Purchase, Latest.AddDays(-10), 1)], [], Profile);

        Assert.Equal(1.0, anchors["new"]!.Weight, 9);
        Assert.Equal(0.5, anchors["old"]!.Weight, 9);
    }

    [Fact]
    public void Weights_follow_intent_repeats_add_up_and_the_strongest_type_is_kept()
    {
        var anchors = Anchors.From(
        [
            new Interaction("p", EventType.View, Latest, 1),
            new Interaction("p", EventType.Purchase, Latest, 1),
            new Interaction("q", EventType.View, Latest, 1),
        ], [], Profile);

        Assert.Equal(EventType.Purchase, anchors["p"]!.Type);
        // p: 0.3 + 1.0, q: 0.3, normalised by the heaviest.
        Assert.Equal(0.3 / 1.3, anchors["q"]!.Weight, 9);
        Assert.Equal(["p"], anchors.CoPurchaseSources(1));
    }

    [Fact]
    public void Presence_weighs_recency_and_intent_but_not_repeats_and_takes_the_strongest_type()
    {
        var anchors = Anchors.From(
        [
            new Interaction("reordered", EventType.Purchase, Latest, 9),
            new Interaction("once", EventType.Purchase, Latest, 1),
            new Interaction("once", EventType.View, Latest, 1),
            new Interaction("older", EventType.Purchase, Latest.AddDays(-10), 1),
        ], [], Profile);

        // The learned model was fitted on whether customers bought a product: nine orders and one are both "bought".
        Assert.Equal(1.0, anchors["reordered"]!.Presence, 9);
        Assert.Equal(1.0, anchors["once"]!.Presence, 9);
        Assert.Equal(0.5, anchors["older"]!.Presence, 9);
        // Weight still counts the repeats (buy-again, the profile vector): 1 + ln 9 against 1 + 0.3 for "once".
        Assert.Equal(1.3 / (1 + Math.Log(9)), anchors["once"]!.Weight, 9);
    }

    [Fact]
    public void Context_items_outweigh_the_history_they_join()
    {
        var anchors = Anchors.From([new Interaction("bought", EventType.Purchase, Latest, 1)], ["on-page"], Profile);

        Assert.Equal(1.0, anchors["on-page"]!.Weight, 9);
        Assert.Equal(1 / Profile.ContextWeight, anchors["bought"]!.Weight, 9);
        Assert.Equal(1.0, anchors["on-page"]!.Presence, 9);
        Assert.Equal(1 / Profile.ContextWeight, anchors["bought"]!.Presence, 9);
        Assert.Null(anchors["on-page"]!.Type);
    }

    [Fact]
    public void The_profile_weighs_each_anchor_by_its_weight()
    {
        var anchors = Anchors.From(
            [new Interaction("x", EventType.Purchase, Latest, 1), new Interaction("y", EventType.Purchase, Latest.AddDays(-10), 1)], [], Profile);

        // The index sums the anchors' vectors by these weights (IVectorIndex.WeightedMeanAsync): 1·x + 0.5·y.
        Assert.Equal(["x", "y"], anchors.Weights.Keys);
        Assert.Equal(1.0, anchors.Weights["x"], 9);
        Assert.Equal(0.5, anchors.Weights["y"], 9);
        Assert.Empty(Anchors.Context([]).Weights);
    }
}
