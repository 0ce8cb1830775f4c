namespace Recommend.Core.Ranking;

/// <summary>Where personalised recommendations gather candidates from.</summary>
[Flags]
public enum CandidateSources
{
    None = 0,
    /// <summary>Vector neighbours of the user's profile and context items.</summary>
    Similar = 1,
    /// <summary>Products bought together with the user's recent items.</summary>
    BoughtTogether = 2,
    /// <summary>Time-decayed popularity (the cold-start fallback).</summary>
    Trending = 4,
    /// <summary>Neighbours of the user's recent items in the learned item-to-item model.</summary>
    Learned = 8,
    All = Similar | BoughtTogether | Trending | Learned,
}

/// <summary>What is wrong with a profile: the field (as configuration and the API spell it) and why.</summary>
public sealed record ProfileProblem(string Field, string Message);

/// <summary>
/// Weights that blend the candidate signals into one score. An experiment variant is just another profile. The defaults
/// were tuned on a validation period of the UCI Online Retail data (`recommend eval --tune`, docs/evaluation.md): the
/// learned model leads, the profile's similarity and trending refine it, and basket co-purchases add nothing on top of
/// the learned model there (they stand in for it until one is trained).
/// </summary>
public sealed record RankingProfile
{
    public const string DefaultName = "default";

    public string Name { get; init; } = DefaultName;

    /// <summary>Weight of cosine similarity to the user's profile / the context items.</summary>
    public double SimilarityWeight { get; init; } = 1.0;

    /// <summary>
    /// Weight of the co-purchase association with the user's recent items. 0 by default: next to a learned model the
    /// live counts add nothing (the UCI evaluation scores 0 and 0.1 the same, docs/evaluation.md) and reading them was a
    /// fifth of a call's CPU at 1 M products; before the first model they stand in for it (<see cref="LearnedWeight"/>).
    /// </summary>
    public double CoPurchaseWeight { get; init; } = 0;

    /// <summary>
    /// Weight of the learned item-to-item model's score (relative to the best candidate's). Until a model is trained it
    /// adds to <see cref="CoPurchaseWeight"/>: the live co-purchase counts are the nearest stand-in.
    /// </summary>
    public double LearnedWeight { get; init; } = 1.5;

    /// <summary>
    /// Weight of the customer's own past purchases (by recency and count, relative to the strongest) when the request
    /// asks for buy-again; ignored otherwise.
    /// </summary>
    public double BuyAgainWeight { get; init; } = 8.0;

    /// <summary>Weight of decayed popularity (relative to the most popular product).</summary>
    public double TrendingWeight { get; init; } = 0.4;

    /// <summary>MMR trade-off: 1 = pure relevance, 0 = pure diversity.</summary>
    public double DiversityLambda { get; init; } = 1.0;

    /// <summary>Half-life of an interaction's weight in the user profile, measured back from the user's latest event.</summary>
    public TimeSpan ProfileHalfLife { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// How many recent interactions build the profile. 150 scores as 300 did on the UCI evaluation, and a heavy
    /// customer's call at 1 M products costs 13 % less CPU with it (docs/evaluation.md).
    /// </summary>
    public int ProfileInteractions { get; init; } = 150;

    /// <summary>Weight of each context item (page or cart) relative to the heaviest history item.</summary>
    public double ContextWeight { get; init; } = 2.0;

    /// <summary>Candidate sources of personalised recommendations; the weights then blend what they found.</summary>
    public CandidateSources Sources { get; init; } = CandidateSources.All;

    public static RankingProfile Default { get; } = new();

    /// <summary>What is wrong with the profile, or null when it is usable.</summary>
    public ProfileProblem? Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) return new("name", "must not be empty");
        foreach (var (field, weight) in new[] { ("similarity_weight", SimilarityWeight), ("co_purchase_weight", CoPurchaseWeight), ("trending_weight", TrendingWeight), ("learned_weight", LearnedWeight), ("buy_again_weight", BuyAgainWeight), ("context_weight", ContextWeight) })
        {
            if (!double.IsFinite(weight) || weight < 0) return new(field, "must be a finite number ≥ 0");
        }
        if (SimilarityWeight + CoPurchaseWeight + TrendingWeight + LearnedWeight <= 0) return new("similarity_weight", "at least one of the weights must be > 0");
        if (!(DiversityLambda is >= 0 and <= 1)) return new("diversity_lambda", "must be within [0, 1]");
        if (ProfileHalfLife <= TimeSpan.Zero) return new("profile_half_life", "must be positive");
        if (ProfileInteractions is < 1 or > 500) return new("profile_interactions", "must be within [1, 500]");
        if ((Sources & CandidateSources.All) == CandidateSources.None || (Sources & ~CandidateSources.All) != 0)
            return new("candidate_sources", "must name at least one of similar, bought_together, trending, learned");
        return null;
    }
}
