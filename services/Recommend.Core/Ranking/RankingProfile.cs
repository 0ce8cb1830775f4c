namespace Recommend.Core.Ranking;

/// <summary>
/// Weights that blend the candidate signals into one score. An experiment variant is just another profile.
/// </summary>
public sealed record RankingProfile
{
    public const string DefaultName = "default";

    public string Name { get; init; } = DefaultName;

    /// <summary>Weight of cosine similarity to the user's profile / the context items.</summary>
    public double SimilarityWeight { get; init; } = 1.0;

    /// <summary>Weight of the co-purchase association with the user's recent items.</summary>
    public double CoPurchaseWeight { get; init; } = 0.8;

    /// <summary>Weight of decayed popularity (relative to the most popular product).</summary>
    public double TrendingWeight { get; init; } = 0.15;

    /// <summary>MMR trade-off: 1 = pure relevance, 0 = pure diversity.</summary>
    public double DiversityLambda { get; init; } = 0.8;

    /// <summary>Half-life of an interaction's weight in the user profile, measured back from the user's latest event.</summary>
    public TimeSpan ProfileHalfLife { get; init; } = TimeSpan.FromDays(30);

    /// <summary>How many recent interactions build the profile.</summary>
    public int ProfileInteractions { get; init; } = 30;

    /// <summary>Weight of each context item (page or cart) relative to the heaviest history item.</summary>
    public double ContextWeight { get; init; } = 2.0;

    public static RankingProfile Default { get; } = new();

    /// <summary>Describes what is wrong with the weights, or null when they are usable.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) return "name is empty";
        if (SimilarityWeight < 0 || CoPurchaseWeight < 0 || TrendingWeight < 0) return "weights must be ≥ 0";
        if (SimilarityWeight + CoPurchaseWeight + TrendingWeight <= 0) return "at least one weight must be > 0";
        if (DiversityLambda is < 0 or > 1) return "diversity lambda must be within [0, 1]";
        if (ProfileHalfLife <= TimeSpan.Zero) return "profile half-life must be positive";
        if (ProfileInteractions is < 1 or > 500) return "profile interactions must be within [1, 500]";
        return null;
    }
}
