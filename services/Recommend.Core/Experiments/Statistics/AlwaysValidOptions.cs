namespace Recommend.Core.Experiments.Statistics;

/// <summary>
/// Settings of the always-valid test in <see cref="Estimators.Lift"/>: the mixture sequential probability ratio test
/// (mSPRT) of Johari, Pekelis &amp; Walsh (2017) on the difference of the two estimates, with a normal N(0, τ²) mixture
/// over the true difference.
/// </summary>
/// <param name="Alpha">
/// The level: with probability at least 1 − Alpha the confidence sequence covers the true difference at every look at once,
/// and an A/A experiment's always-valid p-value falls below Alpha at some look with probability at most Alpha.
/// </param>
/// <param name="ExpectedUsers">
/// The total users (treatment + control) the experiment is expected to reach. The mixture is tuned so that the confidence
/// sequence is narrowest when that many users are in: τ² = r*·V*, where V* is the variance of the difference at
/// ExpectedUsers (the current variance × current users / ExpectedUsers, since it falls as 1/users) and r* solves
/// r = ln(1 + r) − 2 ln α (r* ≈ 8.21 at α = 0.05), which minimises the half-width
/// √(V(1 + V/τ²)(ln(1 + τ²/V) − 2 ln α)) at V = V*. This is the choice GrowthBook's sequential engine approximates with
/// r ≈ −2 ln α + ln(1 − 2 ln α). Mis-guessing it costs little: the width grows only logarithmically away from it. It must be
/// fixed before the experiment starts (not derived from the users seen so far) or the test is no longer always valid.
/// </param>
/// <param name="MixingVariance">
/// τ² itself, in the metric's units squared (a prior guess of the squared size of effects), overriding the tuning when set.
/// </param>
public sealed record AlwaysValidOptions(double Alpha = 0.05, long ExpectedUsers = 10_000, double? MixingVariance = null)
{
    internal static AlwaysValidOptions Default { get; } = new();

    /// <summary>r* with r* = ln(1 + r*) − 2 ln α: the τ²/V that makes the sequence narrowest at variance V.</summary>
    internal static double OptimalMixingRatio(double alpha)
    {
        var bound = -2.0 * Math.Log(alpha);
        var r = bound;
        // A contraction (the slope 1/(1 + r) is below 1/(1 − 2 ln α)), so the fixed point is reached in a few dozen steps.
        for (var i = 0; i < 200; i++)
        {
            var next = bound + Math.Log(1.0 + r);
            if (Math.Abs(next - r) <= 1e-15 * next)
            {
                return next;
            }

            r = next;
        }

        return r;
    }

    /// <summary>τ² for a difference whose variance is <paramref name="variance"/> with <paramref name="users"/> users in.</summary>
    internal double MixingVarianceFor(double variance, long users) =>
        MixingVariance ?? OptimalMixingRatio(Alpha) * variance * users / ExpectedUsers;

    internal void Validate()
    {
        if (!(Alpha > 0.0 && Alpha < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must lie strictly between 0 and 1.");
        }

        if (ExpectedUsers <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ExpectedUsers), ExpectedUsers, "ExpectedUsers must be positive.");
        }

        if (MixingVariance is { } tau2 && !(tau2 > 0.0 && double.IsFinite(tau2)))
        {
            throw new ArgumentOutOfRangeException(nameof(MixingVariance), tau2, "MixingVariance must be positive and finite.");
        }
    }
}
