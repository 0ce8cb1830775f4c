using Recommend.Core.Experiments.Statistics;

namespace Recommend.Core.Experiments;

/// <param name="Metric">"ctr", "conversion_rate" or "revenue_per_user".</param>
/// <param name="Lift">Against the control; null for the control itself.</param>
/// <param name="Cuped">The estimate adjusted by the user's pre-experiment behaviour; null where no covariate applies (CTR).</param>
public sealed record MetricReport(string Metric, MetricEstimate Estimate, LiftTest? Lift, CupedEstimate? Cuped, LiftTest? CupedLift);

public sealed record VariantReport(string Name, bool Control, double Weight, VariantTotals Totals, IReadOnlyList<MetricReport> Metrics);

/// <param name="Winner">The team the sign test favours at p &lt; 0.05, or null.</param>
public sealed record InterleavingReport(InterleavingTotals Totals, SignTestResult Preference, string? Winner);

public sealed record ExperimentReport(
    Experiment Experiment,
    DateTimeOffset From,
    DateTimeOffset To,
    IReadOnlyList<VariantReport> Variants,
    SrmResult Srm,
    InterleavingReport? Interleaving,
    IReadOnlyList<DailyTotals> Daily,
    string PValueNote,
    DateTimeOffset ComputedAt);
