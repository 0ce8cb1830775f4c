namespace Recommend.Core.Experiments.Statistics;

/// <summary>Sample-ratio-mismatch (SRM) check: are users reaching the variants in the configured proportions?</summary>
public static class SampleRatio
{
    /// <summary>
    /// Chi-square goodness of fit of users exposed per variant against the configured weights (normalised); alarm when p &lt; threshold.
    /// </summary>
    /// <remarks>
    /// χ² = Σ (Oᵢ − Eᵢ)²/Eᵢ with Eᵢ = N·wᵢ/Σw, on k − 1 degrees of freedom, k the variants with a positive weight. Users in a
    /// variant of weight 0 are a mismatch however few: χ² = +∞, p = 0. No users at all: χ² = 0, p = 1, no alarm. A single
    /// weighted variant leaves nothing to test: p = 1.
    /// </remarks>
    /// <exception cref="ArgumentException">The lists differ in length or are empty, a count is negative, a weight is negative
    /// or not finite, or no weight is positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is not in (0, 1).</exception>
    public static SrmResult Test(IReadOnlyList<long> observed, IReadOnlyList<double> weights, double threshold = 0.001)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(weights);
        if (observed.Count != weights.Count || observed.Count == 0)
        {
            throw new ArgumentException("One weight is needed for each variant, and at least one variant.", nameof(weights));
        }

        if (!(threshold > 0.0 && threshold < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must lie strictly between 0 and 1.");
        }

        double totalWeight = 0.0, total = 0.0;
        var weighted = 0;
        for (var i = 0; i < observed.Count; i++)
        {
            if (observed[i] < 0)
            {
                throw new ArgumentException($"Variant {i} has a negative count of users.", nameof(observed));
            }

            if (!(weights[i] >= 0.0 && double.IsFinite(weights[i])))
            {
                throw new ArgumentException($"Variant {i} has a negative or non-finite weight.", nameof(weights));
            }

            totalWeight += weights[i];
            total += observed[i];
            weighted += weights[i] > 0.0 ? 1 : 0;
        }

        if (totalWeight <= 0.0)
        {
            throw new ArgumentException("At least one weight must be positive.", nameof(weights));
        }

        var expectedShare = new double[observed.Count];
        var observedShare = new double[observed.Count];
        var chiSquare = 0.0;
        for (var i = 0; i < observed.Count; i++)
        {
            expectedShare[i] = weights[i] / totalWeight;
            observedShare[i] = total > 0.0 ? observed[i] / total : 0.0;
            if (weights[i] > 0.0)
            {
                var expected = total * expectedShare[i];
                if (expected > 0.0)
                {
                    var gap = observed[i] - expected;
                    chiSquare += gap * gap / expected;
                }
            }
            else if (observed[i] > 0)
            {
                chiSquare = double.PositiveInfinity;
            }
        }

        double pValue;
        if (double.IsPositiveInfinity(chiSquare))
        {
            pValue = 0.0;
        }
        else if (total == 0.0 || weighted < 2)
        {
            pValue = 1.0;
        }
        else
        {
            pValue = Distributions.ChiSquareSurvival(chiSquare, weighted - 1);
        }

        return new SrmResult(chiSquare, pValue, pValue < threshold, threshold, expectedShare, observedShare);
    }
}
