namespace Recommend.Core.Tests.Experiments.Statistics;

/// <summary>Assertions on doubles by relative error, and the no-NaN rule of the report.</summary>
internal static class Approx
{
    public static void Relative(double expected, double actual, double tolerance = 1e-12)
    {
        var error = Math.Abs(actual - expected);
        Assert.True(error <= tolerance * Math.Abs(expected),
            $"expected {expected:R}, got {actual:R} (relative error {error / Math.Abs(expected):E2} > {tolerance:E0})");
    }

    public static void Absolute(double expected, double actual, double tolerance)
    {
        Assert.True(Math.Abs(actual - expected) <= tolerance, $"expected {expected:R} ± {tolerance:E1}, got {actual:R}");
    }

    public static void NoNaN(params double[] values)
    {
        foreach (var value in values)
        {
            Assert.False(double.IsNaN(value), "a report value is NaN");
        }
    }
}
