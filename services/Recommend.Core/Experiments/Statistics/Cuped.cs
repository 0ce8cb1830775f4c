namespace Recommend.Core.Experiments.Statistics;

/// <summary>CUPED (Deng, Xu, Kohavi &amp; Walker 2013): variance reduction with a pre-experiment covariate.</summary>
public static class Cuped
{
    /// <summary>
    /// θ = cov(X, Y) / var(X) pooled over all variants; each variant's adjusted mean Ȳ − θ(X̄ − X̄_all) and its variance
    /// var(Y − θX)/n; VarianceReduction = 1 − adjusted variance / raw variance. Users with no pre-period have X = 0.
    /// </summary>
    /// <remarks>
    /// The pooled covariance and variance are the within-variant ones, Σᵥ Σᵢ (xᵢ − X̄ᵥ)(yᵢ − Ȳᵥ) / Σᵥ Σᵢ (xᵢ − X̄ᵥ)²: the common
    /// slope of an ANCOVA, so a treatment effect on Y's mean does not leak into θ. X̄_all is the mean of X over all users of
    /// all variants, so the adjusted means stay on Y's scale and their differences are the adjusted effects. var(Y − θX) is
    /// each variant's sample variance (n − 1) s²_y − 2θ s_xy + θ² s²_x; the CI is Student t with n − 1 degrees of freedom.
    /// If X does not vary θ = 0 and nothing changes. A variant with no users gets value 0, an unbounded CI and variance
    /// +∞; one with a single user its mean, an unbounded CI and variance +∞; both with VarianceReduction 0.
    /// </remarks>
    public static IReadOnlyList<CupedEstimate> Adjust(IReadOnlyList<CovariateSums> variants)
    {
        ArgumentNullException.ThrowIfNull(variants);

        double pooledCovariance = 0.0, pooledVariance = 0.0, sumX = 0.0;
        long users = 0;
        foreach (var v in variants)
        {
            if (v.Users <= 0)
            {
                continue;
            }

            pooledVariance += Math.Max(0.0, v.SumXSquares - v.SumX * (v.SumX / v.Users));
            pooledCovariance += v.SumXY - v.SumX * (v.SumY / v.Users);
            sumX += v.SumX;
            users += v.Users;
        }

        var theta = pooledVariance > 0.0 && double.IsFinite(pooledCovariance / pooledVariance) ? pooledCovariance / pooledVariance : 0.0;
        var meanXAll = users > 0 ? sumX / users : 0.0;

        var results = new CupedEstimate[variants.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var v = variants[i];
            var n = v.Users;
            if (n <= 0)
            {
                results[i] = new CupedEstimate(Estimators.Unknown(0.0, 0), theta, 0.0);
                continue;
            }

            var meanX = v.SumX / n;
            var meanY = v.SumY / n;
            var adjustedMean = meanY - theta * (meanX - meanXAll);
            if (n == 1 || !double.IsFinite(adjustedMean))
            {
                results[i] = new CupedEstimate(Estimators.Unknown(double.IsFinite(adjustedMean) ? adjustedMean : 0.0, n), theta, 0.0);
                continue;
            }

            var varianceY = Math.Max(0.0, v.SumYSquares - v.SumY * meanY) / (n - 1);
            var varianceX = Math.Max(0.0, v.SumXSquares - v.SumX * meanX) / (n - 1);
            var covariance = (v.SumXY - v.SumX * meanY) / (n - 1);
            var residualVariance = Math.Max(0.0, varianceY - 2.0 * theta * covariance + theta * theta * varianceX);

            var adjusted = Estimators.Estimate(adjustedMean, residualVariance / n, n);
            var reduction = varianceY > 0.0 ? 1.0 - residualVariance / varianceY : 0.0;
            results[i] = new CupedEstimate(adjusted, theta, reduction);
        }

        return results;
    }
}
