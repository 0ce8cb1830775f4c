namespace Recommend.Core.Experiments.Statistics;

/// <summary>A point estimate with its interval. An unknown bound is ±∞ (never NaN); a known-exact value has Low = High = Value.</summary>
public readonly record struct Interval(double Value, double Low, double High)
{
    /// <summary>The value with the whole real line as its interval: nothing is known about its uncertainty.</summary>
    internal static Interval Unbounded(double value) => new(value, double.NegativeInfinity, double.PositiveInfinity);

    /// <summary>The value with a zero-width interval: no sampling variation was seen.</summary>
    internal static Interval Exact(double value) => new(value, value, value);
}

/// <summary>
/// A variant's estimate of a metric: the point estimate with its 95 % CI, the variance of the estimate, and how many users
/// it rests on.
/// </summary>
/// <param name="Estimate">The point estimate and its two-sided 95 % CI (Student t with Users − 1 degrees of freedom).</param>
/// <param name="Variance">The variance of the estimate (not of the per-user metric); +∞ when it cannot be estimated.</param>
/// <param name="Users">How many users the estimate rests on.</param>
public sealed record MetricEstimate(Interval Estimate, double Variance, long Users);

/// <summary>
/// Relative lift of treatment over control (t / c − 1) with a 95 % CI (delta method), the fixed-horizon two-sided p-value,
/// an always-valid p-value and an always-valid 95 % confidence sequence of the relative lift.
/// </summary>
/// <param name="Relative">t / c − 1 and its fixed-horizon 95 % CI.</param>
/// <param name="PValue">Welch's two-sided p-value for t − c = 0; valid only if read once, at the planned horizon.</param>
/// <param name="AlwaysValidPValue">min(1, 1/Λₙ) of the normal-mixture mSPRT; valid however often it is read.</param>
/// <param name="AlwaysValid">The always-valid (1 − α) confidence sequence of the difference, divided by the control estimate.</param>
public sealed record LiftTest(Interval Relative, double PValue, double AlwaysValidPValue, Interval AlwaysValid);

/// <summary>A variant's CUPED-adjusted mean.</summary>
/// <param name="Adjusted">The adjusted mean Ȳ − θ(X̄ − X̄_all), its 95 % CI and the variance var(Y − θX)/n.</param>
/// <param name="Theta">θ = cov(X, Y)/var(X), pooled over the variants (the same for all of them).</param>
/// <param name="VarianceReduction">1 − adjusted variance / raw variance (0 where the raw variance is 0 or unknown).</param>
public sealed record CupedEstimate(MetricEstimate Adjusted, double Theta, double VarianceReduction);

/// <summary>A sample-ratio-mismatch check.</summary>
/// <param name="ChiSquare">Pearson's χ² of the observed users against the expected split.</param>
/// <param name="PValue">P(χ²_{k−1} ≥ ChiSquare).</param>
/// <param name="Alarm">PValue &lt; Threshold: the split is not what was configured; the experiment's results are suspect.</param>
/// <param name="Threshold">The p-value below which the check alarms.</param>
/// <param name="ExpectedShare">The configured weights, normalised to sum to 1.</param>
/// <param name="ObservedShare">Each variant's share of the users seen (all 0 when no user was seen).</param>
public sealed record SrmResult(
    double ChiSquare, double PValue, bool Alarm, double Threshold, IReadOnlyList<double> ExpectedShare, IReadOnlyList<double> ObservedShare);

/// <summary>An interleaving sign test.</summary>
/// <param name="ShareForB">B's share of the users with a preference, with its Wilson 95 % interval.</param>
/// <param name="PValue">The exact two-sided binomial p-value against a share of ½.</param>
public sealed record SignTestResult(Interval ShareForB, double PValue);
