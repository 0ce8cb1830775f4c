using Recommend.Core.Ranking;

namespace Recommend.Evaluation.Tests;

/// <summary>How the tuner picks the default from the trials it ran on the validation period.</summary>
public class TunerChoiceTests
{
    private static TuningTrial Trial(string change, double ndcg, double coverage, bool eligible = true, Setting setting = Setting.NewItems, double buyAgain = 8) =>
        new(change, setting, RankingProfile.Default with { Name = change, BuyAgainWeight = buyAgain }, new MethodScore(ndcg, 0, 0, 0, 0, coverage, 100), eligible);

    [Fact]
    public void Within_two_percent_of_the_best_the_widest_lists_win()
    {
        var chosen = ProfileTuner.Best(
        [
            Trial("best", 0.1000, 0.25),
            Trial("near, wider", 0.0985, 0.30),
            Trial("too far, widest", 0.0970, 0.40),
            Trial("wide but below the floor", 0.0999, 0.50, eligible: false),
            Trial("buy again", 0.30, 0.4, setting: Setting.BuyAgain, buyAgain: 2),
        ]);

        Assert.Equal("near, wider", chosen.Change);
        Assert.Equal(2, chosen.Profile.BuyAgainWeight);
    }

    [Fact]
    public void Without_a_near_tie_the_best_stays()
    {
        var chosen = ProfileTuner.Best([Trial("best", 0.1000, 0.25), Trial("far", 0.0900, 0.45), Trial("buy again", 0.3, 0.4, setting: Setting.BuyAgain)]);

        Assert.Equal("best", chosen.Change);
    }
}
