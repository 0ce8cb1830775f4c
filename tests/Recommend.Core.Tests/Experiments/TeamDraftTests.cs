using Recommend.Core.Catalog;
using Recommend.Core.Experiments;
using Recommend.Core.Ranking;

namespace Recommend.Core.Tests.Experiments;

public class TeamDraftTests
{
    private static IReadOnlyList<RecommendedProduct> Ranking(params string[] ids) =>
        ids.Select((id, i) => new RecommendedProduct(new Product(id, id, "", "", 1, true, Product.NoAttributes), 1.0 / (i + 1), [])).ToList();

    [Fact]
    public void Each_round_both_teams_pick_their_best_unpicked_item_and_every_item_is_credited_to_its_picker()
    {
        var a = Ranking("x", "y", "z", "w");
        var b = Ranking("y", "q", "x", "r");

        var merged = TeamDraft.Interleave(a, "A", b, "B", 6, new Random(7));

        Assert.Equal(merged.Count, merged.Select(m => m.Item.Product.Id).Distinct().Count());
        Assert.Equal(6, merged.Count);
        // Every item sits at the position its team's ranking gives it among that team's picks.
        foreach (var team in new[] { ("A", a), ("B", b) })
        {
            var picks = merged.Where(m => m.Team == team.Item1).Select(m => team.Item2.ToList().FindIndex(p => p.Product.Id == m.Item.Product.Id)).ToList();
            Assert.Equal(picks.Order(), picks);
        }
        // Team sizes never differ by more than one after a full round.
        Assert.InRange(merged.Count(m => m.Team == "A") - merged.Count(m => m.Team == "B"), -1, 1);
    }

    [Fact]
    public void The_coin_decides_who_picks_first_so_neither_ranking_owns_the_top_slot()
    {
        var a = Ranking("a1", "a2", "a3");
        var b = Ranking("b1", "b2", "b3");
        var firstPicks = Enumerable.Range(0, 400).Select(seed => TeamDraft.Interleave(a, "A", b, "B", 4, new Random(seed))[0].Team).ToList();

        Assert.InRange(firstPicks.Count(t => t == "A"), 150, 250);
    }

    [Fact]
    public void When_one_ranking_runs_out_the_other_fills_the_list()
    {
        var merged = TeamDraft.Interleave(Ranking("a1"), "A", Ranking("b1", "b2", "b3", "b4"), "B", 4, new Random(1));

        Assert.Equal(["A", "B", "B", "B"], merged.Select(m => m.Team).Order());
        Assert.Empty(TeamDraft.Interleave([], "A", [], "B", 5, new Random(1)));
    }
}
