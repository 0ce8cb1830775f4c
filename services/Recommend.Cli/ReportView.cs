using System.Globalization;
using Recommend.Contracts.V1;
using Spectre.Console;

namespace Recommend.Cli;

/// <summary>An experiment report as terminal tables: SRM verdict first, then counts, then each metric's lift.</summary>
internal static class ReportView
{
    public static void Write(ExperimentReport report)
    {
        var e = report.Experiment;
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(e.Name)}[/] " + Markup.Escape($"({e.ExperimentId}, {e.Mode}, {e.Status}) {report.From.ToDateTime():u} → {report.To.ToDateTime():u}"));
        AnsiConsole.MarkupLine(report.Srm.Alarm
            ? $"[white on red] {Markup.Escape($"SAMPLE RATIO MISMATCH: p = {P(report.Srm.PValue)} < {report.Srm.Threshold}")} — the split is broken; do not trust these results [/]"
            : $"[green]SRM check passed[/] {Markup.Escape($"(p = {P(report.Srm.PValue)})")}");

        var counts = new Table().AddColumns("variant", "assigned", "exposed", "exposures", "clicks", "add-to-carts", "purchases", "revenue");
        foreach (var v in report.Variants)
        {
            counts.AddRow(new[]
            {
                v.Control ? $"{v.Name} (control)" : v.Name, N(v.UsersAssigned), N(v.UsersExposed), N(v.Exposures), N(v.Clicks), N(v.AddToCarts),
                N(v.Purchases), v.Revenue.ToString("N2", CultureInfo.InvariantCulture),
            }.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(counts);

        var metrics = new Table().AddColumns("variant", "metric", "estimate (95 % CI)", "lift (95 % CI)", "p always-valid", "p fixed", "CUPED lift", "var. reduction");
        foreach (var v in report.Variants)
        {
            foreach (var m in v.Metrics)
            {
                var rate = m.Metric != "revenue_per_user";
                string[] cells =
                [
                    v.Name, m.Metric, Estimate(m.Estimate, rate),
                    m.Lift is null ? "–" : Lift(m.Lift.Relative), m.Lift is null ? "–" : P(m.Lift.AlwaysValidPValue), m.Lift is null ? "–" : P(m.Lift.PValue),
                    m.CupedLift is null ? "–" : Lift(m.CupedLift.Relative), m.CupedEstimate is null ? "–" : $"{m.CupedVarianceReduction:P0}",
                ];
                metrics.AddRow(cells.Select(Markup.Escape).ToArray());
            }
        }
        AnsiConsole.Write(metrics);
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(report.PValueNote)}[/]");

        if (report.Interleaving is { } i)
        {
            var summary = $"Interleaving: {i.TeamA} {i.ClicksA} clicks / {i.PurchasesA} purchases, {i.TeamB} {i.ClicksB} / {i.PurchasesB}; "
                + $"users preferring {i.UsersPreferringA} vs {i.UsersPreferringB} ({i.UsersTied} tied); "
                + $"{i.TeamB} share {i.PreferenceB.Value:P1} [{i.PreferenceB.CiLow:P1}, {i.PreferenceB.CiHigh:P1}], p = {P(i.PValue)}";
            AnsiConsole.MarkupLine(Markup.Escape(summary) + (i.Winner.Length > 0 ? $" → [bold]{Markup.Escape(i.Winner)} wins[/]" : " → no winner yet"));
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string P(double p) => p < 0.001 ? "< 0.001" : p.ToString("F3", CultureInfo.InvariantCulture);

    private static string Estimate(Estimate e, bool rate) => rate
        ? $"{e.Value:P2} [{e.CiLow:P2}, {e.CiHigh:P2}]"
        : $"{e.Value:N2} [{e.CiLow:N2}, {e.CiHigh:N2}]";

    private static string Lift(Estimate e) => $"{e.Value:+0.0%;-0.0%} [{e.CiLow:+0.0%;-0.0%}, {e.CiHigh:+0.0%;-0.0%}]";
}
