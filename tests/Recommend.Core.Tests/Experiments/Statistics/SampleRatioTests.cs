using Recommend.Core.Experiments.Statistics;

namespace Recommend.Core.Tests.Experiments.Statistics;

public class SampleRatioTests
{
    [Fact]
    public void Chi_square_of_1000_against_1100_at_50_50()
    {
        // E = 1050 each; χ² = (50² + 50²)/1050 = 4.761904761904762; p = P(χ²₁ > 4.7619) = erfc(√(4.7619/2))
        // = 0.02909633174125222: suspicious, but no alarm at the default threshold 0.001.
        var result = SampleRatio.Test([1000, 1100], [0.5, 0.5]);

        Approx.Relative(5000.0 / 1050.0, result.ChiSquare, 1e-14);
        Approx.Relative(0.02909633174125222, result.PValue, 1e-12);
        Assert.False(result.Alarm);
        Assert.Equal(0.001, result.Threshold);
        Assert.Equal(new[] { 0.5, 0.5 }, result.ExpectedShare);
        Approx.Relative(1000.0 / 2100.0, result.ObservedShare[0], 1e-15);
        Assert.True(SampleRatio.Test([1000, 1100], [0.5, 0.5], threshold: 0.05).Alarm);
    }

    [Fact]
    public void Weights_are_normalised_and_a_large_mismatch_alarms()
    {
        // Weights 2:1:1 → shares ½, ¼, ¼; 10,000 users expected 5000/2500/2500; observed 5200/2300/2500:
        // χ² = 200²/5000 + 200²/2500 + 0 = 8 + 16 = 24 on 2 df → p = e^(−12) = 6.14421235332821e-6.
        var result = SampleRatio.Test([5200, 2300, 2500], [2, 1, 1]);

        Assert.Equal(new[] { 0.5, 0.25, 0.25 }, result.ExpectedShare);
        Approx.Relative(24.0, result.ChiSquare, 1e-14);
        Approx.Relative(Math.Exp(-12), result.PValue, 1e-12);
        Assert.True(result.Alarm);
    }

    [Fact]
    public void Degenerate_splits_are_defined()
    {
        var empty = SampleRatio.Test([0, 0], [1, 1]);
        Assert.Equal(0.0, empty.ChiSquare);
        Assert.Equal(1.0, empty.PValue);
        Assert.False(empty.Alarm);
        Assert.Equal(new[] { 0.0, 0.0 }, empty.ObservedShare);

        // Users in a variant configured with weight 0 are a mismatch.
        var leak = SampleRatio.Test([100, 100, 3], [1, 1, 0]);
        Assert.Equal(0.0, leak.PValue);
        Assert.True(leak.Alarm);

        Assert.Throws<ArgumentException>(() => SampleRatio.Test([1, 2], [1]));
        Assert.Throws<ArgumentException>(() => SampleRatio.Test([1, 2], [0, 0]));
    }
}
