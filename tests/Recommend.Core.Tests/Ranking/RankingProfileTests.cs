using Recommend.Core.Ranking;

namespace Recommend.Core.Tests.Ranking;

public class RankingProfileTests
{
    [Fact]
    public void The_default_profile_is_valid()
    {
        Assert.Null(RankingProfile.Default.Validate());
    }

    public static TheoryData<RankingProfile, string> Invalid => new()
    {
        { RankingProfile.Default with { Name = " " }, "name is empty" },
        { RankingProfile.Default with { TrendingWeight = -0.1 }, "weights must be ≥ 0" },
        { RankingProfile.Default with { SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 0 }, "at least one weight must be > 0" },
        { RankingProfile.Default with { DiversityLambda = 1.5 }, "diversity lambda must be within [0, 1]" },
        { RankingProfile.Default with { ProfileHalfLife = TimeSpan.Zero }, "profile half-life must be positive" },
        { RankingProfile.Default with { ProfileInteractions = 0 }, "profile interactions must be within [1, 500]" },
        { RankingProfile.Default with { ProfileInteractions = 501 }, "profile interactions must be within [1, 500]" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Unusable_weights_are_named(RankingProfile profile, string problem)
    {
        Assert.Equal(problem, profile.Validate());
    }
}
