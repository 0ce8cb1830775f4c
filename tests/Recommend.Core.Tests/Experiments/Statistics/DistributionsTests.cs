using Recommend.Core.Experiments.Statistics;

namespace Recommend.Core.Tests.Experiments.Statistics;

// Reference values are from 40-digit arbitrary-precision evaluations (mpmath: ncdf, betainc, gammainc, loggamma), or exact
// closed forms where the distribution has one; they are rounded to 16 significant digits here.
public class DistributionsTests
{
    [Theory]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.025, -1.959963984540054)]
    [InlineData(0.3, -0.5244005127080408)]
    [InlineData(1e-10, -6.361340902404056)]
    [InlineData(1e-300, -37.04709629936120)]
    public void Normal_quantile_matches_known_quantiles(double p, double expected)
    {
        Approx.Relative(expected, Distributions.NormalQuantile(p), 1e-14);
    }

    [Fact]
    public void Normal_quantile_constant_is_the_quantile()
    {
        Assert.Equal(Distributions.Z975, Distributions.NormalQuantile(0.975), 15);
        Assert.Equal(double.NegativeInfinity, Distributions.NormalQuantile(0.0));
        Assert.Equal(double.PositiveInfinity, Distributions.NormalQuantile(1.0));
        Assert.Equal(0.0, Distributions.NormalQuantile(0.5), 15);
    }

    [Theory]
    [InlineData(1.96, 0.9750021048517796)]
    [InlineData(0.3, 0.6179114221889526)]
    [InlineData(0.0, 0.5)]
    [InlineData(-8.0, 6.220960574271784e-16)]
    [InlineData(-20.0, 2.753624118606234e-89)]
    [InlineData(-37.5, 4.605353009581955e-308)]
    public void Normal_cdf_keeps_its_relative_accuracy_deep_in_the_tail(double x, double expected)
    {
        Approx.Relative(expected, Distributions.NormalCdf(x), 1e-13);
    }

    [Fact]
    public void Normal_quantile_inverts_the_cdf()
    {
        for (var p = 1e-6; p < 1.0; p += 0.0137)
        {
            Approx.Relative(p, Distributions.NormalCdf(Distributions.NormalQuantile(p)), 1e-13);
        }
    }

    [Theory]
    [InlineData(1.0, 12.70620473617470)]
    [InlineData(2.0, 4.302652729749464)]
    [InlineData(3.0, 3.182446305283710)]
    [InlineData(10.0, 2.228138851986275)]
    [InlineData(30.0, 2.042272456301238)]
    [InlineData(1e6, 1.959966356814107)]
    public void Student_t_quantile_matches_the_table(double degreesOfFreedom, double expected)
    {
        Approx.Relative(expected, Distributions.StudentTQuantile(0.975, degreesOfFreedom), 1e-12);
        Approx.Relative(-expected, Distributions.StudentTQuantile(0.025, degreesOfFreedom), 1e-12);
        Approx.Relative(0.975, Distributions.StudentTCdf(expected, degreesOfFreedom), 1e-13);
    }

    [Theory]
    [InlineData(2.5, 7.0, 0.9795038907071236)]
    [InlineData(-3.0, 4.5, 0.01719043394437981)]
    [InlineData(-6.0, 1e5, 9.899647278008813e-10)]
    [InlineData(-5.0, 1e9, 2.866516201975814e-7)]
    [InlineData(1.0, 1.0, 0.75)] // Cauchy: ½ + atan(1)/π
    public void Student_t_cdf_matches_known_points(double t, double degreesOfFreedom, double expected)
    {
        Approx.Relative(expected, Distributions.StudentTCdf(t, degreesOfFreedom), 1e-12);
    }

    [Fact]
    public void Student_t_with_two_degrees_of_freedom_has_a_closed_form()
    {
        // F(t) = ½ + t / (2√(2 + t²)).
        foreach (var t in new[] { -30.0, -4.0, -1.0, -0.1, 0.2, 1.5, 7.0 })
        {
            Approx.Relative(0.5 + t / (2.0 * Math.Sqrt(2.0 + t * t)), Distributions.StudentTCdf(t, 2.0), 1e-13);
        }
    }

    [Theory]
    [InlineData(3.841458820694124, 1.0, 0.05000000000000006)]
    [InlineData(18.307038053275146, 10.0, 0.05000000000000001)]
    [InlineData(100.0, 3.0, 1.554159431389605e-21)]
    [InlineData(250.0, 200.0, 0.009379131668826096)]
    [InlineData(4.761904761904762, 1.0, 0.02909633174125222)]
    public void Chi_square_survival_matches_known_points(double x, double degreesOfFreedom, double expected)
    {
        Approx.Relative(expected, Distributions.ChiSquareSurvival(x, degreesOfFreedom), 1e-12);
    }

    [Fact]
    public void Chi_square_with_two_degrees_of_freedom_is_exponential()
    {
        foreach (var x in new[] { 0.01, 0.5, 2.0, 9.0, 60.0, 700.0 })
        {
            Approx.Relative(Math.Exp(-x / 2.0), Distributions.ChiSquareSurvival(x, 2.0), 1e-13);
        }
    }

    [Theory]
    [InlineData(0.5, 0.5723649429247001)] // ln √π
    [InlineData(1e-5, 11.51291969289583)]
    [InlineData(3.7, 1.428072326665388)]
    [InlineData(10.0, 12.80182748008147)] // ln 9!
    [InlineData(100.0, 359.1342053695754)]
    [InlineData(1e6, 12815504.56914761)]
    public void Log_gamma_matches_known_values(double x, double expected)
    {
        Approx.Relative(expected, Distributions.LogGamma(x), 1e-14);
    }

    [Fact]
    public void Incomplete_beta_and_binomial_match_known_values()
    {
        Approx.Relative(0.4869041915261174, Distributions.RegularizedBeta(2.5, 3.5, 0.4, 0.6).Lower, 1e-13);
        Approx.Relative(0.9916428402984847, Distributions.RegularizedBeta(1000, 1200, 0.48, 0.52).Lower, 1e-12);
        // 2·P(X ≤ 40), X ~ Bin(100, ½).
        Approx.Relative(0.05688793364098079, 2.0 * Distributions.BinomialCdf(40, 100, 0.5), 1e-12);
        // P(X ≤ 0) = 2⁻²⁰ exactly.
        Approx.Relative(Math.Pow(2, -20), Distributions.BinomialCdf(0, 20, 0.5), 1e-14);
    }
}
