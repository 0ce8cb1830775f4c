using System.Text.Json;
using System.Text.Json.Serialization;
using Recommend.Core.Ranking;

using Recommend.Core.Experiments;

namespace Recommend.Sql;

/// <summary>
/// An experiment as both SQL stores persist it: scalars in columns, placements and variants (with their profiles) as
/// JSON documents, times as unix milliseconds. The JSON layout is a stored format: add fields, never rename them.
/// </summary>
public sealed class ExperimentRow
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string Placements { get; set; } = "[]";
    public long Mode { get; set; }
    public string Variants { get; set; } = "[]";
    public long Status { get; set; }
    public string Salt { get; set; } = "";
    public long AttributionWindowMs { get; set; }
    public long CreatedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? StoppedAt { get; set; }

    // Variants stored before a weight existed read it as 0, and their stored sources leave the learned model out: a
    // running experiment keeps ranking the way it was defined.
    private sealed record StoredVariant(string Name, double Weight, bool Control, StoredProfile Profile);

    private sealed record StoredProfile(
        double SimilarityWeight, double CoPurchaseWeight, double TrendingWeight, double DiversityLambda, double ProfileHalfLifeHours,
        int ProfileInteractions, double ContextWeight, CandidateSources Sources, double LearnedWeight, double BuyAgainWeight);

    public static ExperimentRow From(Experiment e) => new()
    {
        Id = e.Id, Name = e.Name, Description = e.Description, Placements = JsonSerializer.Serialize(e.Placements, Json), Mode = (long)e.Mode,
        Variants = JsonSerializer.Serialize(e.Variants.Select(v => new StoredVariant(v.Name, v.Weight, v.Control, new StoredProfile(
            v.Profile.SimilarityWeight, v.Profile.CoPurchaseWeight, v.Profile.TrendingWeight, v.Profile.DiversityLambda,
            v.Profile.ProfileHalfLife.TotalHours, v.Profile.ProfileInteractions, v.Profile.ContextWeight, v.Profile.Sources, v.Profile.LearnedWeight, v.Profile.BuyAgainWeight))), Json),
        Status = (long)e.Status, Salt = e.Salt, AttributionWindowMs = (long)e.AttributionWindow.TotalMilliseconds,
        CreatedAt = e.CreatedAt.ToUnixTimeMilliseconds(), StartedAt = e.StartedAt?.ToUnixTimeMilliseconds(), StoppedAt = e.StoppedAt?.ToUnixTimeMilliseconds(),
    };

    public Experiment ToExperiment() => new()
    {
        Id = Id, Name = Name, Description = Description, Placements = JsonSerializer.Deserialize<List<string>>(Placements, Json) ?? [],
        Mode = (ExperimentMode)Mode,
        Variants = (JsonSerializer.Deserialize<List<StoredVariant>>(Variants, Json) ?? []).Select(v => new ExperimentVariant(v.Name, v.Weight, v.Control,
            RankingProfile.Default with
            {
                SimilarityWeight = v.Profile.SimilarityWeight, CoPurchaseWeight = v.Profile.CoPurchaseWeight, TrendingWeight = v.Profile.TrendingWeight,
                LearnedWeight = v.Profile.LearnedWeight, BuyAgainWeight = v.Profile.BuyAgainWeight,
                DiversityLambda = v.Profile.DiversityLambda, ProfileHalfLife = TimeSpan.FromHours(v.Profile.ProfileHalfLifeHours),
                ProfileInteractions = v.Profile.ProfileInteractions, ContextWeight = v.Profile.ContextWeight, Sources = v.Profile.Sources,
            })).ToList(),
        Status = (ExperimentStatus)Status, Salt = Salt, AttributionWindow = TimeSpan.FromMilliseconds(AttributionWindowMs),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
        StartedAt = StartedAt is { } started ? DateTimeOffset.FromUnixTimeMilliseconds(started) : null,
        StoppedAt = StoppedAt is { } stopped ? DateTimeOffset.FromUnixTimeMilliseconds(stopped) : null,
    };
}
