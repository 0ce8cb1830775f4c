namespace Recommend.Core.Experiments.Statistics;

/// <summary>The sign test of an interleaving experiment: do more users prefer ranker B than ranker A?</summary>
public static class SignTest
{
    /// <summary>
    /// Interleaving: users preferring B vs A (ties excluded). Wilson 95 % CI of B's share; exact two-sided binomial p against 0.5.
    /// </summary>
    /// <remarks>
    /// The share's Value is the observed share B/(A + B); the Wilson bounds are (p̂ + z²/2n ± z√(p̂(1 − p̂)/n + z²/4n²))/(1 + z²/n)
    /// with z = Φ⁻¹(0.975). The p-value is min(1, 2·P(X ≤ min(A, B))) for X ~ Binomial(A + B, ½), computed exactly for every n
    /// through the regularized incomplete beta function (P(X ≤ k) = I_½(n − k, k + 1)), so no normal approximation is used.
    /// No preferences at all: share ½ with interval [0, 1] and p = 1.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public static SignTestResult Test(long preferB, long preferA)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(preferB);
        ArgumentOutOfRangeException.ThrowIfNegative(preferA);

        var n = (double)preferB + preferA;
        if (n == 0.0)
        {
            return new SignTestResult(new Interval(0.5, 0.0, 1.0), 1.0);
        }

        var share = preferB / n;
        const double z = Distributions.Z975;
        var z2n = z * z / n;
        var centre = (share + 0.5 * z2n) / (1.0 + z2n);
        var half = z / (1.0 + z2n) * Math.Sqrt(share * (1.0 - share) / n + 0.25 * z2n / n);
        var interval = new Interval(share, Math.Max(0.0, centre - half), Math.Min(1.0, centre + half));

        var smaller = Math.Min(preferA, preferB);
        var pValue = 2 * smaller == preferA + preferB
            ? 1.0
            : Math.Min(1.0, 2.0 * Distributions.BinomialCdf(smaller, preferA + preferB, 0.5));
        return new SignTestResult(interval, pValue);
    }
}
