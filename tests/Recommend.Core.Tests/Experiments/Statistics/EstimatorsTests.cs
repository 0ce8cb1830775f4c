using Recommend.Core.Experiments.Statistics;

namespace Recommend.Core.Tests.Experiments.Statistics;

public class EstimatorsTests
{
    private static MetricSums SumsOf(params double[] values) => new(values.Length, values.Sum(), values.Sum(v => v * v));

    [Fact]
    public void Mean_has_variance_s2_over_n_and_a_student_t_interval()
    {
        // {1, 2, 3, 4}: ȳ = 2.5; s² = (30 − 10·2.5)/3 = 5/3; var = s²/4 = 5/12; half = t(0.975, 3)·√(5/12)
        // = 3.182446305283710 · 0.6454972243679028 = 2.054260256760522.
        var estimate = Estimators.Mean(SumsOf(1, 2, 3, 4));

        Assert.Equal(4, estimate.Users);
        Approx.Relative(2.5, estimate.Estimate.Value);
        Approx.Relative(5.0 / 12.0, estimate.Variance);
        Approx.Relative(2.5 - 2.054260256760522, estimate.Estimate.Low, 1e-12);
        Approx.Relative(2.5 + 2.054260256760522, estimate.Estimate.High, 1e-12);
    }

    [Fact]
    public void Mean_of_degenerate_sums_is_a_point_with_an_unbounded_or_exact_interval()
    {
        var none = Estimators.Mean(new MetricSums(0, 0, 0));
        Assert.Equal(new Interval(0, double.NegativeInfinity, double.PositiveInfinity), none.Estimate);
        Assert.Equal(double.PositiveInfinity, none.Variance);

        var one = Estimators.Mean(SumsOf(7));
        Assert.Equal(new Interval(7, double.NegativeInfinity, double.PositiveInfinity), one.Estimate);

        var constant = Estimators.Mean(SumsOf(0.1, 0.1, 0.1));
        Assert.Equal(0.0, constant.Variance);
        Assert.Equal(constant.Estimate.Value, constant.Estimate.Low);
        Assert.Equal(constant.Estimate.Value, constant.Estimate.High);
    }

    [Fact]
    public void Ratio_uses_the_delta_method_per_user()
    {
        // Users (y, x) = (1, 2), (0, 1), (2, 3): ΣY = 3, ΣX = 6, ΣY² = 5, ΣX² = 14, ΣXY = 8; R = 3/6 = 0.5; x̄ = 2.
        // s²_y = (5 − 3)/2 = 1, s²_x = (14 − 12)/2 = 1, s_xy = (8 − 6)/2 = 1.
        // var = (s²_y − 2R·s_xy + R²·s²_x)/(n·x̄²) = (1 − 1 + 0.25)/(3·4) = 1/48.
        // half = t(0.975, 2)·√(1/48) = 4.302652729749464 · 0.1443375672974065 = 0.6210344279375828.
        var estimate = Estimators.Ratio(new RatioSums(3, 3, 6, 5, 14, 8));

        Approx.Relative(0.5, estimate.Estimate.Value);
        Approx.Relative(1.0 / 48.0, estimate.Variance);
        Approx.Relative(0.5 - 0.6210344279375828, estimate.Estimate.Low, 1e-11);
        Approx.Relative(0.5 + 0.6210344279375828, estimate.Estimate.High, 1e-12);
    }

    [Fact]
    public void Ratio_without_a_denominator_is_unbounded_not_nan()
    {
        var estimate = Estimators.Ratio(new RatioSums(10, 0, 0, 0, 0, 0));
        Assert.Equal(new Interval(0, double.NegativeInfinity, double.PositiveInfinity), estimate.Estimate);
        Assert.Equal(double.PositiveInfinity, estimate.Variance);
        var none = Estimators.Ratio(default);
        Approx.NoNaN(none.Estimate.Value, none.Estimate.Low, none.Estimate.High, none.Variance);
    }

    [Fact]
    public void Lift_is_welchs_test_with_a_delta_method_relative_interval()
    {
        // Control A = {1, 2, 3, 4, 5}: ȳ = 3, s² = 2.5, v_c = 0.5. Treatment B = {4, 6, 8, 10}: ȳ = 7, s² = 20/3, v_t = 5/3.
        // t = 4/√(13/6) = 2.717464881947030; df = (13/6)² / ((5/3)²/3 + 0.5²/4) = 2028/427 = 4.749414519906323;
        // two-sided p = 2·P(T_4.749 > 2.7175) = 0.04422479521188803 (40-digit evaluation).
        // Relative: 7/3 − 1 = 4/3; var = (v_t + (7/3)²·v_c)/3² = (5/3 + 49/18)/9 = 79/162;
        // half = t(0.975, 2028/427)·√(79/162) = 2.611916089303254 · 0.6983225049167186 = 1.823959786328647.
        var control = Estimators.Mean(SumsOf(1, 2, 3, 4, 5));
        var treatment = Estimators.Mean(SumsOf(4, 6, 8, 10));

        var lift = Estimators.Lift(treatment, control);

        Approx.Relative(0.04422479521188803, lift.PValue, 1e-11);
        Approx.Relative(4.0 / 3.0, lift.Relative.Value, 1e-14);
        Approx.Relative(4.0 / 3.0 - 1.823959786328647, lift.Relative.Low, 1e-11);
        Approx.Relative(4.0 / 3.0 + 1.823959786328647, lift.Relative.High, 1e-11);
    }

    [Fact]
    public void Lift_of_ratio_estimates_uses_the_variance_of_the_estimate()
    {
        // Control: the 3-user ratio above, R = 0.5 with variance 1/48. Treatment: users (y, x) = (2, 2), (1, 1), (3, 3),
        // R = 1 with every residual y − R·x = 0, so variance 0. Welch: V = 1/48, df = 1/((1/48)²/(1/48)² / 2) = 2,
        // t = 0.5·√48 = √12, and with 2 df the two-sided p is 1 − t/√(2 + t²) = 1 − √(6/7) = 0.07417990022744854.
        // Relative: 1/0.5 − 1 = 1, var = (0 + 2²·(1/48))/0.5² = 1/3, half = t(0.975, 2)·√(1/3) = 2.484137711750331.
        var control = Estimators.Ratio(new RatioSums(3, 3, 6, 5, 14, 8));
        var treatment = Estimators.Ratio(new RatioSums(3, 6, 6, 14, 14, 14));

        var lift = Estimators.Lift(treatment, control);

        Assert.Equal(0.0, treatment.Variance);
        Approx.Relative(0.07417990022744854, lift.PValue, 1e-12);
        Approx.Relative(1.0, lift.Relative.Value, 1e-15);
        Approx.Relative(1.0 - 2.484137711750331, lift.Relative.Low, 1e-12);
        Approx.Relative(1.0 + 2.484137711750331, lift.Relative.High, 1e-12);
    }

    [Fact]
    public void Always_valid_p_value_and_sequence_follow_the_normal_mixture()
    {
        // Δ = 13 − 10 = 3, V = 0.5 + 0.5 = 1, τ² = 1: Λ = √(V/(V+τ²))·exp(Δ²τ²/(2V(V+τ²))) = √½·e^(9/4);
        // 1/Λ = √2·e^(−2.25) = 0.1490570128389960.
        // Half-width on the difference: √(V(1 + V/τ²)(ln(1 + τ²/V) − 2 ln 0.05)) = √(2(ln 2 + 5.991464547107982))
        // = 3.656394871363849; divided by c = 10: (3 ∓ 3.6564)/10 = [−0.06563948713638486, 0.6656394871363849].
        var treatment = new MetricEstimate(new Interval(13, 11, 15), 0.5, 1_000_000);
        var control = new MetricEstimate(new Interval(10, 8, 12), 0.5, 1_000_000);

        var lift = Estimators.Lift(treatment, control, new AlwaysValidOptions(MixingVariance: 1.0));

        Approx.Relative(0.1490570128389960, lift.AlwaysValidPValue, 1e-13);
        Approx.Relative(0.3, lift.AlwaysValid.Value, 1e-14);
        Approx.Relative(-0.06563948713638486, lift.AlwaysValid.Low, 1e-12);
        Approx.Relative(0.6656394871363849, lift.AlwaysValid.High, 1e-13);
        // The fixed-horizon test of the same data: z = 3 → p ≈ 2Φ(−3) = 0.0027, far smaller than the always-valid one.
        Approx.Absolute(0.0026998, lift.PValue, 1e-6);
    }

    [Fact]
    public void Default_mixture_makes_the_sequence_narrowest_at_the_expected_users()
    {
        // r* solves r = ln(1 + r) − 2 ln 0.05 (fixed point by 40-digit iteration: 8.211968062068254).
        Approx.Relative(8.211968062068254, AlwaysValidOptions.OptimalMixingRatio(0.05), 1e-14);

        // With 10,000 users in (the default ExpectedUsers) τ² = r*·V, and neither a smaller nor a larger τ² is narrower.
        var treatment = new MetricEstimate(new Interval(0.11, 0, 0), 2e-6, 5_000);
        var control = new MetricEstimate(new Interval(0.10, 0, 0), 2e-6, 5_000);
        double Width(AlwaysValidOptions options)
        {
            var sequence = Estimators.Lift(treatment, control, options).AlwaysValid;
            return sequence.High - sequence.Low;
        }

        var tuned = Width(new AlwaysValidOptions());
        var tau2 = 8.211968062068254 * 4e-6;
        Approx.Relative(tuned, Width(new AlwaysValidOptions(MixingVariance: tau2)), 1e-12);
        Assert.True(tuned < Width(new AlwaysValidOptions(MixingVariance: tau2 * 0.7)));
        Assert.True(tuned < Width(new AlwaysValidOptions(MixingVariance: tau2 * 1.4)));
        // There the half-width is √(V(1 + 1/r*)(ln(1 + r*) − 2 ln α)) = √(V(1 + r*)) = 3.035·√V, against 1.96·√V for the
        // fixed-horizon CI: the price of being allowed to look at every report.
        Approx.Relative(Math.Sqrt(1.0 + 8.211968062068254), 0.5 * tuned * 0.10 / Math.Sqrt(4e-6), 1e-12);
    }

    [Fact]
    public void Lift_of_degenerate_estimates_never_returns_nan()
    {
        var zeroControl = Estimators.Mean(new MetricSums(1000, 0, 0));
        var someTreatment = Estimators.Mean(new MetricSums(1000, 30, 30));
        var empty = Estimators.Mean(new MetricSums(0, 0, 0));
        var single = Estimators.Mean(new MetricSums(1, 1, 1));
        var constant = Estimators.Mean(new MetricSums(50, 50, 50));

        // Control 0: the relative lift is unbounded, the difference is still tested (30 conversions vs none).
        var fromZero = Estimators.Lift(someTreatment, zeroControl);
        Assert.Equal(double.PositiveInfinity, fromZero.Relative.Value);
        Assert.Equal(double.NegativeInfinity, fromZero.Relative.Low);
        Assert.True(fromZero.PValue < 1e-6);

        var bothZero = Estimators.Lift(zeroControl, zeroControl);
        Assert.Equal(0.0, bothZero.Relative.Value);
        Assert.Equal(1.0, bothZero.PValue);
        Assert.Equal(1.0, bothZero.AlwaysValidPValue);

        foreach (var (t, c) in new[] { (empty, empty), (single, someTreatment), (someTreatment, empty), (constant, constant) })
        {
            var lift = Estimators.Lift(t, c);
            Assert.Equal(1.0, lift.PValue);
            Assert.Equal(1.0, lift.AlwaysValidPValue);
            Approx.NoNaN(lift.Relative.Value, lift.Relative.Low, lift.Relative.High, lift.AlwaysValid.Value, lift.AlwaysValid.Low, lift.AlwaysValid.High);
        }

        var exact = Estimators.Lift(constant, constant);
        Assert.Equal(new Interval(0, 0, 0), exact.Relative);
    }

    [Fact]
    public void Lift_rejects_bad_options()
    {
        var a = Estimators.Mean(new MetricSums(10, 5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Estimators.Lift(a, a, new AlwaysValidOptions(Alpha: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Estimators.Lift(a, a, new AlwaysValidOptions(ExpectedUsers: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Estimators.Lift(a, a, new AlwaysValidOptions(MixingVariance: -1)));
    }
}
