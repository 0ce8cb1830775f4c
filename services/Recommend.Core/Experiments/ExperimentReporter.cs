using Recommend.Core.Experiments.Statistics;

namespace Recommend.Core.Experiments;

/// <summary>
/// Turns the sums the store computes into a report: per-user estimates with 95 % CIs (ratio metrics by the delta
/// method), lifts against the control with fixed-horizon and always-valid p-values, CUPED next to the raw estimates,
/// the sample-ratio-mismatch test, and the interleaving preference.
/// </summary>
public sealed class ExperimentReporter(IExperimentStore store)
{
    /// <summary>How far before a user's first exposure their purchases and revenue are the CUPED covariate.</summary>
    public static readonly TimeSpan PrePeriod = TimeSpan.FromDays(28);

    public const string PValueNote =
        "Always-valid p-values and confidence sequences (mSPRT with a normal mixture) lead: they stay valid however often "
        + "this report is read. Fixed-horizon p-values (Welch) are shown beside them and hold only when read once, at a planned end.";

    private const double SignificanceLevel = 0.05;

    public async Task<ExperimentReport> ReportAsync(Experiment experiment, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, CancellationToken ct)
    {
        var totals = await store.GetTotalsAsync(new TotalsQuery(experiment.Id, from, to, experiment.AttributionWindow, PrePeriod), ct);
        var groups = Groups(experiment, totals);
        var control = groups.First(g => g.Control);
        var cupedRevenue = Cuped.Adjust(groups.Select(g => g.Totals.RevenueWithPrePeriod).ToList());
        var cupedConversion = Cuped.Adjust(groups.Select(g => g.Totals.ConvertedWithPrePurchases).ToList());
        var controlIndex = groups.IndexOf(control);

        var variants = groups.Select((g, i) => new VariantReport(g.Name, g.Control, g.Weight, g.Totals,
        [
            Metric("ctr", Estimators.Ratio(g.Totals.ClicksPerExposure), g.Control ? null : Estimators.Ratio(control.Totals.ClicksPerExposure), null, null),
            Metric("conversion_rate", Estimators.Mean(g.Totals.Converted), g.Control ? null : Estimators.Mean(control.Totals.Converted),
                cupedConversion[i], g.Control ? null : cupedConversion[controlIndex]),
            Metric("revenue_per_user", Estimators.Mean(g.Totals.RevenuePerUser), g.Control ? null : Estimators.Mean(control.Totals.RevenuePerUser),
                cupedRevenue[i], g.Control ? null : cupedRevenue[controlIndex]),
        ])).ToList();

        var srm = experiment.Mode == ExperimentMode.AB
            ? SampleRatio.Test(groups.Select(g => g.Totals.UsersExposed).ToList(), groups.Select(g => g.Weight).ToList())
            : SampleRatio.Test([control.Totals.UsersExposed], [1.0]);
        return new ExperimentReport(experiment, from, to, variants, srm, Interleaving(totals.Interleaving), totals.Daily, PValueNote, now);
    }

    private sealed record Group(string Name, bool Control, double Weight, VariantTotals Totals);

    /// <summary>A/B: one group per variant (zeros for one nobody reached yet). Interleaving: every user sees both, one group.</summary>
    private static List<Group> Groups(Experiment experiment, ExperimentTotals totals)
    {
        if (experiment.Mode == ExperimentMode.Interleaving)
            return [new Group(ExperimentRouter.InterleavedVariant, true, 1, totals.Variants.FirstOrDefault() ?? Zero(ExperimentRouter.InterleavedVariant))];
        return experiment.Variants
            .Select(v => new Group(v.Name, v.Control, v.Weight, totals.Variants.FirstOrDefault(t => t.Variant == v.Name) ?? Zero(v.Name)))
            .ToList();
    }

    private static VariantTotals Zero(string variant) => new(variant, 0, 0, 0, 0, 0, 0, default, default, default, default, default);

    private static MetricReport Metric(string name, MetricEstimate estimate, MetricEstimate? control, CupedEstimate? cuped, CupedEstimate? controlCuped) =>
        new(name, estimate, control is null ? null : Estimators.Lift(estimate, control), cuped,
            cuped is null || controlCuped is null ? null : Estimators.Lift(cuped.Adjusted, controlCuped.Adjusted));

    private static InterleavingReport? Interleaving(InterleavingTotals? totals)
    {
        if (totals is null) return null;
        var test = SignTest.Test(totals.UsersPreferringB, totals.UsersPreferringA);
        var winner = test.PValue >= SignificanceLevel ? null : test.ShareForB.Value > 0.5 ? totals.TeamB : totals.TeamA;
        return new InterleavingReport(totals, test, winner);
    }
}
