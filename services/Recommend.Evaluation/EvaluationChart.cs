using ScottPlot;

namespace Recommend.Evaluation;

/// <summary>NDCG@K of every method in both settings, as grouped bars (PNG or SVG by the file's extension).</summary>
public static class EvaluationChart
{
    public static void Save(EvaluationReport report, string path)
    {
        var plot = new Plot();
        var newItems = Colors.C0;
        var buyAgain = Colors.C1;
        var ticks = new List<Tick>();
        for (var i = 0; i < report.Methods.Count; i++)
        {
            var method = report.Methods[i];
            var position = i * 3.0;
            plot.Add.Bar(new Bar { Position = position, Value = method.NewItems.Ndcg, FillColor = newItems });
            plot.Add.Bar(new Bar { Position = position + 1, Value = method.BuyAgain.Ndcg, FillColor = buyAgain });
            ticks.Add(new Tick(position + 0.5, method.Method));
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = -35;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 140;
        plot.Axes.Margins(bottom: 0);
        plot.YLabel($"NDCG@{report.K}");
        plot.Title($"{report.Dataset}, {report.Period} period (trained before {report.TrainedBefore:yyyy-MM-dd})");
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "new items", FillColor = newItems });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "buy again (repeats included)", FillColor = buyAgain });
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.ShowLegend();

        const int width = 1100, height = 600;
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase)) plot.SaveSvg(path, width, height);
        else plot.SavePng(path, width, height);
    }
}
