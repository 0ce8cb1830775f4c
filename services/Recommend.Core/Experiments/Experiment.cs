using Recommend.Core.Ranking;

namespace Recommend.Core.Experiments;

public enum ExperimentMode
{
    /// <summary>Each user sees one variant's ranking, by deterministic assignment.</summary>
    AB = 1,
    /// <summary>Each answer interleaves two variants' rankings (team draft); clicks credit the team that placed the item.</summary>
    Interleaving = 2,
}

/// <remarks>Values are persisted: never renumber.</remarks>
public enum ExperimentStatus
{
    Draft = 1,
    Running = 2,
    Stopped = 3,
}

/// <summary>One arm of an experiment: a ranking profile and its share of traffic.</summary>
public sealed record ExperimentVariant(string Name, double Weight, bool Control, RankingProfile Profile);

/// <summary>
/// An experiment on ranking: variants (each a <see cref="RankingProfile"/>) served on some placements, assigned by a
/// hash of the user id and <see cref="Salt"/>, so every node agrees without shared state.
/// </summary>
public sealed record Experiment
{
    public static readonly TimeSpan DefaultAttributionWindow = TimeSpan.FromHours(24);

    public required string Id { get; init; }
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public required IReadOnlyList<string> Placements { get; init; }
    public ExperimentMode Mode { get; init; } = ExperimentMode.AB;
    public required IReadOnlyList<ExperimentVariant> Variants { get; init; }
    public ExperimentStatus Status { get; init; } = ExperimentStatus.Draft;
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    /// <summary>Per-experiment hash seed: a new salt reshuffles users, the same salt keeps every user's variant.</summary>
    public required string Salt { get; init; }
    public TimeSpan AttributionWindow { get; init; } = DefaultAttributionWindow;

    public ExperimentVariant Control => Variants.First(v => v.Control);

    /// <summary>Whether <paramref name="other"/> assigns and ranks exactly as this one does (what may not change once it ran).</summary>
    public bool SameDesign(Experiment other) =>
        Mode == other.Mode && Salt == other.Salt && AttributionWindow == other.AttributionWindow
        && Placements.SequenceEqual(other.Placements, StringComparer.Ordinal)
        && Variants.SequenceEqual(other.Variants);
}

/// <summary>One item shown to a user by an experiment: the unit exposures, CTR and attribution count in.</summary>
/// <param name="Team">The variant whose ranking placed the item: the assigned variant (A/B) or the team (interleaving).</param>
public sealed record Exposure(
    string ExperimentId, string Variant, string UserId, string RecommendationId, string ProductId, int Position, string Team,
    DateTimeOffset OccurredAt);
