using System.Diagnostics;
using Recommend.Core.Experiments.Statistics;

namespace Recommend.Core.Tests.Experiments.Statistics;

public class SignTestTests
{
    [Fact]
    public void Sixty_against_forty()
    {
        // p̂ = 0.6, n = 100, z = 1.959963984540054: Wilson centre (0.6 + z²/200)/(1 + z²/100) = 0.5963...,
        // bounds [0.5020025867910618, 0.6905987135675411]. Two-sided exact p = 2·Σ_{k≤40} C(100,k)/2¹⁰⁰ = 0.05688793364098079.
        var result = SignTest.Test(preferB: 60, preferA: 40);

        Approx.Relative(0.6, result.ShareForB.Value, 1e-15);
        Approx.Relative(0.5020025867910618, result.ShareForB.Low, 1e-13);
        Approx.Relative(0.6905987135675411, result.ShareForB.High, 1e-13);
        Approx.Relative(0.05688793364098079, result.PValue, 1e-12);
    }

    [Fact]
    public void Small_counts_are_exact_and_symmetric()
    {
        // 3 against 17: 2·(1 + 20 + 190 + 1140)/2²⁰ = 2702/1048576 = 0.0025768280029296875.
        Approx.Relative(0.0025768280029296875, SignTest.Test(3, 17).PValue, 1e-13);
        Approx.Relative(0.0025768280029296875, SignTest.Test(17, 3).PValue, 1e-13);
        Assert.Equal(1.0, SignTest.Test(50, 50).PValue);
        Assert.Equal(1.0, SignTest.Test(5, 4).PValue);

        var none = SignTest.Test(0, 0);
        Assert.Equal(new Interval(0.5, 0, 1), none.ShareForB);
        Assert.Equal(1.0, none.PValue);
        Assert.Equal(0.0, SignTest.Test(0, 5).ShareForB.Low);
    }

    [Fact]
    public void Large_counts_stay_exact_and_fast()
    {
        // Bin(10⁶, ½), 498,500 or fewer: 2·P = 0.002708655306059757; Bin(10⁷, ½), 4,992,000 or fewer: 4.207342466630779e-7
        // (sums of the pmf at 30 digits).
        var clock = Stopwatch.StartNew();
        Approx.Relative(0.002708655306059757, SignTest.Test(498_500, 501_500).PValue, 1e-9);
        Approx.Relative(4.207342466630779e-7, SignTest.Test(5_008_000, 4_992_000).PValue, 1e-8);
        Assert.True(clock.ElapsedMilliseconds < 500, $"took {clock.ElapsedMilliseconds} ms");
    }
}
