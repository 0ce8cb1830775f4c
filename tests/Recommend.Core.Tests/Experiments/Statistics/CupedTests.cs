using Recommend.Core.Experiments.Statistics;

namespace Recommend.Core.Tests.Experiments.Statistics;

public class CupedTests
{
    private static CovariateSums SumsOf((double X, double Y)[] users) => new(
        users.Length, users.Sum(u => u.X), users.Sum(u => u.X * u.X), users.Sum(u => u.Y), users.Sum(u => u.Y * u.Y), users.Sum(u => u.X * u.Y));

    [Fact]
    public void A_covariate_that_predicts_the_metric_exactly_removes_all_variance()
    {
        // Y = 2X + 1 everywhere. A: X = {1, 2, 3}; B: X = {2, 4}. Within-variant Sxx = 2 and 2, Sxy = 4 and 4 → θ = 8/4 = 2.
        // X̄_all = 12/5 = 2.4; A: 5 − 2(2 − 2.4) = 5.8; B: 7 − 2(3 − 2.4) = 5.8 (both 2·2.4 + 1). var(Y − 2X) = 0.
        var results = Cuped.Adjust([SumsOf([(1, 3), (2, 5), (3, 7)]), SumsOf([(2, 5), (4, 9)])]);

        Assert.Equal(2, results.Count);
        foreach (var result in results)
        {
            Approx.Relative(2.0, result.Theta, 1e-14);
            Approx.Relative(5.8, result.Adjusted.Estimate.Value, 1e-14);
            Assert.Equal(0.0, result.Adjusted.Variance, 12);
            Approx.Relative(1.0, result.VarianceReduction, 1e-12);
        }
    }

    [Fact]
    public void A_partly_correlated_covariate_reduces_variance_by_the_hand_computed_share()
    {
        // A: (X, Y) = (0,1), (1,3), (2,2), (3,5): Sxx = 14 − 6²/4 = 5, Sxy = 22 − 6·11/4 = 11/2, Syy = 39 − 11²/4 = 35/4.
        // B: (1,2), (2,5), (4,6): Sxx = 21 − 7²/3 = 14/3, Sxy = 36 − 7·13/3 = 17/3, Syy = 65 − 13²/3 = 26/3.
        // θ = (11/2 + 17/3)/(5 + 14/3) = (67/6)/(29/3) = 67/58. X̄_all = 13/7.
        // A: adjusted 11/4 − (67/58)(3/2 − 13/7) = 642/203; s²_y = 35/12, s_xy = 11/6, s²_x = 5/3;
        //    var(Y − θX) = 35/12 − 2θ·11/6 + θ²·5/3 = 4567/5046; variance of the mean 4567/20184; reduction 1 − (4567/5046)/(35/12)
        //    = 20301/29435.
        // B: adjusted 13/3 − (67/58)(7/3 − 13/7) = 768/203; var(Y − θX) = 13/3 − 2θ·17/6 + θ²·7/3 = 3031/3364;
        //    variance of the mean 3031/10092; reduction 1 − (3031/3364)/(13/3) = 34639/43732.
        var results = Cuped.Adjust([SumsOf([(0, 1), (1, 3), (2, 2), (3, 5)]), SumsOf([(1, 2), (2, 5), (4, 6)])]);

        Approx.Relative(67.0 / 58.0, results[0].Theta, 1e-14);
        Approx.Relative(642.0 / 203.0, results[0].Adjusted.Estimate.Value, 1e-14);
        Approx.Relative(4567.0 / 20184.0, results[0].Adjusted.Variance, 1e-13);
        Approx.Relative(20301.0 / 29435.0, results[0].VarianceReduction, 1e-13);
        Approx.Relative(768.0 / 203.0, results[1].Adjusted.Estimate.Value, 1e-14);
        Approx.Relative(3031.0 / 10092.0, results[1].Adjusted.Variance, 1e-13);
        Approx.Relative(34639.0 / 43732.0, results[1].VarianceReduction, 1e-13);
        Assert.Equal(4, results[0].Adjusted.Users);
    }

    [Fact]
    public void Adjusted_estimates_give_a_narrower_lift_interval_than_the_raw_means()
    {
        (double, double)[] a = [(0, 1), (1, 3), (2, 2), (3, 5)];
        (double, double)[] b = [(1, 2), (2, 5), (4, 6)];
        var adjusted = Cuped.Adjust([SumsOf(a), SumsOf(b)]);
        var raw = Estimators.Lift(
            Estimators.Mean(new MetricSums(3, 13, 65)), Estimators.Mean(new MetricSums(4, 11, 39)));

        var lift = Estimators.Lift(adjusted[1].Adjusted, adjusted[0].Adjusted);

        Assert.True(lift.Relative.High - lift.Relative.Low < raw.Relative.High - raw.Relative.Low);
        // (768/203)/(642/203) − 1 = 126/642.
        Approx.Relative(126.0 / 642.0, lift.Relative.Value, 1e-13);
    }

    [Fact]
    public void Without_a_varying_covariate_nothing_changes_and_empty_variants_stay_defined()
    {
        // No user has a pre-period (X = 0): θ = 0, the adjusted mean is the raw mean.
        var raw = Estimators.Mean(new MetricSums(3, 6, 14));
        var results = Cuped.Adjust([new CovariateSums(3, 0, 0, 6, 14, 0), new CovariateSums(0, 0, 0, 0, 0, 0)]);

        Assert.Equal(0.0, results[0].Theta);
        Assert.Equal(raw.Estimate, results[0].Adjusted.Estimate);
        Assert.Equal(raw.Variance, results[0].Adjusted.Variance);
        Assert.Equal(0.0, results[0].VarianceReduction);
        Assert.Equal(new Interval(0, double.NegativeInfinity, double.PositiveInfinity), results[1].Adjusted.Estimate);
        Assert.Equal(0.0, results[1].VarianceReduction);
        Assert.Empty(Cuped.Adjust([]));
    }
}
