namespace Recommend.Core.Experiments.Statistics;

/// <summary>Per-user sums of one metric over a variant's users (e.g. revenue per user, or converted 0/1).</summary>
/// <param name="Users">How many users (the randomization unit) the sums run over.</param>
/// <param name="Sum">Σ yᵢ over the users.</param>
/// <param name="SumOfSquares">Σ yᵢ² over the users.</param>
public readonly record struct MetricSums(long Users, double Sum, double SumOfSquares);

/// <summary>
/// Per-user sums of a ratio metric's numerator Y and denominator X (CTR = clicks / exposures), for the delta method.
/// </summary>
/// <param name="Users">How many users the sums run over.</param>
/// <param name="Numerator">Σ yᵢ.</param>
/// <param name="Denominator">Σ xᵢ.</param>
/// <param name="NumeratorSquares">Σ yᵢ².</param>
/// <param name="DenominatorSquares">Σ xᵢ².</param>
/// <param name="CrossProducts">Σ xᵢ·yᵢ.</param>
public readonly record struct RatioSums(
    long Users, double Numerator, double Denominator, double NumeratorSquares, double DenominatorSquares, double CrossProducts);

/// <summary>Per-user sums of a metric Y and its pre-experiment covariate X (CUPED).</summary>
/// <param name="Users">How many users the sums run over (users with no pre-period count, with X = 0).</param>
/// <param name="SumX">Σ xᵢ.</param>
/// <param name="SumXSquares">Σ xᵢ².</param>
/// <param name="SumY">Σ yᵢ.</param>
/// <param name="SumYSquares">Σ yᵢ².</param>
/// <param name="SumXY">Σ xᵢ·yᵢ.</param>
public readonly record struct CovariateSums(long Users, double SumX, double SumXSquares, double SumY, double SumYSquares, double SumXY);
