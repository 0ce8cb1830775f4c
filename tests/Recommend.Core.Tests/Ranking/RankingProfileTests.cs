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
        { RankingProfile.Default with { Name = " " }, "name" },
        { RankingProfile.Default with { TrendingWeight = -0.1 }, "trending_weight" },
        { RankingProfile.Default with { CoPurchaseWeight = double.NaN }, "co_purchase_weight" },
        { RankingProfile.Default with { ContextWeight = double.PositiveInfinity }, "context_weight" },
        { RankingProfile.Default with { SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 0, LearnedWeight = 0 }, "similarity_weight" },
        { RankingProfile.Default with { LearnedWeight = -1 }, "learned_weight" },
        { RankingProfile.Default with { BuyAgainWeight = double.NaN }, "buy_again_weight" },
        { RankingProfile.Default with { DiversityLambda = 1.5 }, "diversity_lambda" },
        { RankingProfile.Default with { DiversityLambda = double.NaN }, "diversity_lambda" },
        { RankingProfile.Default with { ProfileHalfLife = TimeSpan.Zero }, "profile_half_life" },
        { RankingProfile.Default with { ProfileInteractions = 0 }, "profile_interactions" },
        { RankingProfile.Default with { ProfileInteractions = 501 }, "profile_interactions" },
        { RankingProfile.Default with { Sources = CandidateSources.None }, "candidate_sources" },
        { RankingProfile.Default with { Sources = (CandidateSources)16 }, "candidate_sources" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Unusable_settings_name_the_field_at_fault(RankingProfile profile, string field)
    {
        Assert.Equal(field, profile.Validate()?.Field);
    }
}
