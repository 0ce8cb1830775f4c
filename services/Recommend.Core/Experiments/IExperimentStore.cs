using Recommend.Core.Experiments.Statistics;

namespace Recommend.Core.Experiments;

/// <summary>
/// Port: experiments, their exposures, and the sums a report is computed from — kept with the history (SQLite on the
/// embedded default, Postgres in production), because attribution joins exposures with events.
/// </summary>
public interface IExperimentStore
{
    Task<Experiment?> GetExperimentAsync(string experimentId, CancellationToken ct);

    /// <summary>All experiments, newest first.</summary>
    Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken ct);

    /// <summary>
    /// Inserts <paramref name="experiment"/> (a draft), or replaces the stored draft with the same id, atomically; returns
    /// what is stored under the id afterwards — another status than draft when the experiment had already started.
    /// </summary>
    Task<Experiment> SaveDraftAsync(Experiment experiment, CancellationToken ct);

    /// <summary>
    /// Draft → running at <paramref name="at"/>, unless another running experiment shares a placement (checked and
    /// written atomically, so two replicas cannot both start clashing experiments).
    /// </summary>
    Task<ExperimentTransition> StartExperimentAsync(string experimentId, DateTimeOffset at, CancellationToken ct);

    /// <summary>Running → stopped at <paramref name="at"/>; returns the experiment as stored afterwards, or null if unknown.</summary>
    Task<Experiment?> StopExperimentAsync(string experimentId, DateTimeOffset at, CancellationToken ct);

    Task<IReadOnlyList<Experiment>> ListRunningExperimentsAsync(CancellationToken ct);

    /// <summary>Durably records exposures; an exposure already recorded (same answer and product) is not counted again.</summary>
    Task RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken ct);

    /// <summary>The per-variant sums a report needs, computed by the store over its exposures and events.</summary>
    Task<ExperimentTotals> GetTotalsAsync(TotalsQuery query, CancellationToken ct);
}

/// <param name="Experiment">The experiment as stored afterwards; null when unknown.</param>
/// <param name="ConflictingExperimentId">The running experiment that shares a placement, when that refused the start.</param>
public sealed record ExperimentTransition(Experiment? Experiment, string? ConflictingExperimentId);

/// <param name="From">Exposures and events at or after this time count.</param>
/// <param name="To">Exposures and events before this time count.</param>
/// <param name="PrePeriod">How far before a user's first exposure their behaviour is the CUPED covariate.</param>
public sealed record TotalsQuery(string ExperimentId, DateTimeOffset From, DateTimeOffset To, TimeSpan AttributionWindow, TimeSpan PrePeriod);

/// <summary>
/// Per-variant sums over the variant's exposed users. Each user counts from their first exposure; an event counts when it
/// carries the recommendation id of one of the experiment's answers to that user, or — without one — when the user was
/// shown the same product within the attribution window before it.
/// </summary>
public sealed record VariantTotals(
    string Variant,
    long UsersAssigned,
    long Exposures,
    long Clicks,
    long AddToCarts,
    long Purchases,
    double Revenue,
    RatioSums ClicksPerExposure,
    MetricSums Converted,
    MetricSums RevenuePerUser,
    CovariateSums RevenueWithPrePeriod,
    CovariateSums ConvertedWithPrePurchases)
{
    public long UsersExposed => Converted.Users;
}

/// <summary>Interleaving credits: events on items each team placed, and users whose credited events favour a team.</summary>
public sealed record InterleavingTotals(
    string TeamA, string TeamB, long ClicksA, long ClicksB, long PurchasesA, long PurchasesB, long UsersPreferringA, long UsersPreferringB,
    long UsersTied);

/// <summary>One UTC day of one variant: exposures shown that day, attributed events that happened that day.</summary>
public sealed record DailyTotals(DateOnly Day, string Variant, long Exposures, long Clicks, long Purchases, double Revenue);

public sealed record ExperimentTotals(IReadOnlyList<VariantTotals> Variants, InterleavingTotals? Interleaving, IReadOnlyList<DailyTotals> Daily);
