namespace Recommend.Core.Experiments.Statistics;

/// <summary>
/// Per-variant estimates of a metric from its per-user sums, and the comparison of two variants. Nothing here throws on
/// degenerate data or returns NaN: what cannot be estimated comes back as a point estimate with an unbounded interval
/// (and variance +∞), what shows no variation as a zero-width interval, and a test that cannot be run as p = 1.
/// </summary>
public static class Estimators
{
    /// <summary>
    /// The mean of a per-user metric, with variance s²/n of the mean (s² the sample variance, n − 1 denominator) and a 95 %
    /// Student-t CI with n − 1 degrees of freedom. No users: value 0, unbounded CI, variance +∞. One user: the value,
    /// unbounded CI, variance +∞. All users equal: zero-width CI, variance 0.
    /// </summary>
    public static MetricEstimate Mean(MetricSums sums)
    {
        var n = sums.Users;
        if (n <= 0 || !double.IsFinite(sums.Sum) || !double.IsFinite(sums.SumOfSquares))
        {
            return Unknown(0.0, Math.Max(0L, n));
        }

        var mean = sums.Sum / n;
        if (n == 1)
        {
            return Unknown(mean, n);
        }

        // s² = (Σy² − n·ȳ²)/(n − 1), clamped at 0 against rounding.
        var sampleVariance = Math.Max(0.0, sums.SumOfSquares - sums.Sum * mean) / (n - 1);
        return Estimate(mean, sampleVariance / n, n);
    }

    /// <summary>
    /// A ratio metric R = ΣY/ΣX over users (e.g. CTR), with the delta-method variance of the ratio for per-user
    /// randomization: var(R) ≈ Σ(yᵢ − R·xᵢ)² / ((n − 1)·n·x̄²) = (s²_y − 2R·s_xy + R²·s²_x)/(n·x̄²), and a 95 % Student-t
    /// CI with n − 1 degrees of freedom. No users or ΣX = 0: value 0, unbounded CI, variance +∞. One user: the ratio,
    /// unbounded CI, variance +∞.
    /// </summary>
    public static MetricEstimate Ratio(RatioSums sums)
    {
        var n = sums.Users;
        if (n <= 0 || sums.Denominator == 0.0 || !double.IsFinite(sums.Numerator) || !double.IsFinite(sums.Denominator)
            || !double.IsFinite(sums.NumeratorSquares) || !double.IsFinite(sums.DenominatorSquares) || !double.IsFinite(sums.CrossProducts))
        {
            return Unknown(0.0, Math.Max(0L, n));
        }

        var ratio = sums.Numerator / sums.Denominator;
        if (n == 1)
        {
            return Unknown(ratio, n);
        }

        // The residuals yᵢ − R·xᵢ sum to 0, so their sample variance is Σ(yᵢ − R·xᵢ)²/(n − 1).
        var residualSquares = sums.NumeratorSquares - 2.0 * ratio * sums.CrossProducts + ratio * ratio * sums.DenominatorSquares;
        var meanDenominator = sums.Denominator / n;
        var variance = Math.Max(0.0, residualSquares) / (n - 1) / (n * meanDenominator * meanDenominator);
        return Estimate(ratio, variance, n);
    }

    /// <summary>
    /// Treatment against control.
    /// <list type="bullet">
    /// <item>Relative lift (t − c)/c = t/c − 1, with a 95 % CI by the delta method, var ≈ (t/c)²·(v_t/t² + v_c/c²) computed as
    /// (v_t + (t/c)²·v_c)/c², and the Student-t quantile at the Welch–Satterthwaite degrees of freedom.</item>
    /// <item>p-value: Welch's two-sided t-test of t − c = 0, with t = (t − c)/√(v_t + v_c) and
    /// df = (v_t + v_c)² / (v_t²/(n_t − 1) + v_c²/(n_c − 1)), where v is each side's variance of the estimate (so ratio
    /// estimates work the same way).</item>
    /// <item>Always valid: the mSPRT with a N(0, τ²) mixture on the difference Δ = t − c with variance V = v_t + v_c,
    /// Λ = √(V/(V + τ²))·exp(Δ²τ² / (2V(V + τ²))); the p-value is min(1, 1/Λ) (for a monotone sequence over reports keep
    /// its running minimum; both are always valid). The confidence sequence is Δ ± √(V(1 + V/τ²)(ln(1 + τ²/V) − 2 ln α)),
    /// expressed on the relative scale by dividing by the control estimate c (treated as fixed, so it does not carry c's own
    /// uncertainty). τ² comes from <paramref name="options"/>.</item>
    /// </list>
    /// Degenerate inputs: a control of 0 gives a relative lift of 0 (if t = 0) or ±∞ with unbounded intervals, the p-values
    /// still testing t − c; fewer than 2 users on a side or an unknown (infinite) variance gives unbounded intervals and
    /// p = 1; zero variance on both sides gives zero-width intervals and p = 1 (no test is possible without variation).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="options"/> out of range.</exception>
    public static LiftTest Lift(MetricEstimate treatment, MetricEstimate control, AlwaysValidOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(treatment);
        ArgumentNullException.ThrowIfNull(control);
        options ??= AlwaysValidOptions.Default;
        options.Validate();

        var t = treatment.Estimate.Value;
        var c = control.Estimate.Value;
        if (!double.IsFinite(t) || !double.IsFinite(c))
        {
            return new LiftTest(Interval.Unbounded(0.0), 1.0, 1.0, Interval.Unbounded(0.0));
        }

        var difference = t - c;
        var relative = c != 0.0 ? difference / c : difference == 0.0 ? 0.0 : Math.CopySign(double.PositiveInfinity, difference);
        var vt = treatment.Variance;
        var vc = control.Variance;
        if (treatment.Users < 2 || control.Users < 2 || !(vt >= 0.0 && vc >= 0.0) || !double.IsFinite(vt + vc))
        {
            return new LiftTest(Interval.Unbounded(relative), 1.0, 1.0, Interval.Unbounded(relative));
        }

        var variance = vt + vc;
        if (variance == 0.0)
        {
            var exact = c != 0.0 ? Interval.Exact(relative) : Interval.Unbounded(relative);
            return new LiftTest(exact, 1.0, 1.0, exact);
        }

        // Welch–Satterthwaite, in shares of the total variance so that nothing overflows.
        var shareT = vt / variance;
        var shareC = vc / variance;
        var degreesOfFreedom = 1.0 / (shareT * shareT / (treatment.Users - 1) + shareC * shareC / (control.Users - 1));
        var statistic = difference / Math.Sqrt(variance);
        var pValue = Clamp01(Distributions.StudentTTwoSided(statistic, degreesOfFreedom));

        Interval fixedHorizon;
        if (c == 0.0)
        {
            fixedHorizon = Interval.Unbounded(relative);
        }
        else
        {
            var ratio = t / c;
            var relativeVariance = (vt + ratio * ratio * vc) / (c * c);
            var half = Distributions.StudentTQuantile(0.975, degreesOfFreedom) * Math.Sqrt(relativeVariance);
            fixedHorizon = new Interval(relative, relative - half, relative + half);
        }

        // mSPRT with the N(0, τ²) mixture: ln Λ = −½ ln(1 + τ²/V) + ½ z² τ²/(V + τ²), z = Δ/√V.
        var tau2 = options.MixingVarianceFor(variance, treatment.Users + control.Users);
        var logLambda = -0.5 * Distributions.Log1P(tau2 / variance) + 0.5 * statistic * statistic * (tau2 / (variance + tau2));
        var alwaysValidP = logLambda <= 0.0 ? 1.0 : Math.Exp(-logLambda);
        var sequenceHalf = Math.Sqrt(variance * (1.0 + variance / tau2)
            * (Distributions.Log1P(tau2 / variance) - 2.0 * Math.Log(options.Alpha)));

        Interval alwaysValid;
        if (c == 0.0 || !double.IsFinite(sequenceHalf))
        {
            alwaysValid = Interval.Unbounded(relative);
        }
        else
        {
            var low = (difference - sequenceHalf) / c;
            var high = (difference + sequenceHalf) / c;
            alwaysValid = c > 0.0 ? new Interval(relative, low, high) : new Interval(relative, high, low);
        }

        return new LiftTest(fixedHorizon, pValue, alwaysValidP, alwaysValid);
    }

    /// <summary>An estimate whose variance is unknown: the value with an unbounded interval and variance +∞.</summary>
    internal static MetricEstimate Unknown(double value, long users) =>
        new(Interval.Unbounded(value), double.PositiveInfinity, users);

    /// <summary>An estimate with its 95 % Student-t interval on users − 1 degrees of freedom (users ≥ 2).</summary>
    internal static MetricEstimate Estimate(double value, double variance, long users)
    {
        if (variance == 0.0)
        {
            return new MetricEstimate(Interval.Exact(value), 0.0, users);
        }

        var half = Distributions.StudentTQuantile(0.975, users - 1) * Math.Sqrt(variance);
        return new MetricEstimate(new Interval(value, value - half, value + half), variance, users);
    }

    private static double Clamp01(double p) => double.IsNaN(p) ? 1.0 : Math.Clamp(p, 0.0, 1.0);
}
