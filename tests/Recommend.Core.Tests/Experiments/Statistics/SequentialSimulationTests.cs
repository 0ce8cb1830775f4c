using Recommend.Core.Experiments.Statistics;
using Xunit.Abstractions;

namespace Recommend.Core.Tests.Experiments.Statistics;

/// <summary>
/// Simulated experiments, fed to the engine exactly as the report is: per-user values accumulated into per-variant sums,
/// one report a day.
/// </summary>
public class SequentialSimulationTests(ITestOutputHelper output)
{
    private const int Experiments = 2000;
    private const int Days = 14;
    private const int UsersPerArmPerDay = 150;
    private const double Alpha = 0.05;

    // The binomial standard deviation of a rejection share over 2,000 experiments at the nominal 5 %: √(0.05·0.95/2000).
    private static readonly double RateSd = Math.Sqrt(Alpha * (1 - Alpha) / Experiments);

    /// <summary>One variant's accumulated per-user sums of two metrics: converted (0/1) and revenue.</summary>
    private sealed class Arm
    {
        public long Users;
        public double Conversions; // Σ converted = Σ converted², as it is 0/1
        public double Revenue;
        public double RevenueSquares;

        public MetricEstimate Conversion => Estimators.Mean(new MetricSums(Users, Conversions, Conversions));

        public MetricEstimate RevenuePerUser => Estimators.Mean(new MetricSums(Users, Revenue, RevenueSquares));

        /// <summary>
        /// Adds users who convert with probability <paramref name="rate"/> and then spend a heavy-tailed amount,
        /// e^N(3, 1.5²): median e³ ≈ 20, mean e^4.125 ≈ 62, standard deviation ≈ 180.
        /// </summary>
        public void Add(Random random, int users, double rate)
        {
            for (var i = 0; i < users; i++)
            {
                Users++;
                if (random.NextDouble() >= rate)
                {
                    continue;
                }

                Conversions++;
                var normal = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());
                var spend = Math.Exp(3.0 + 1.5 * normal);
                Revenue += spend;
                RevenueSquares += spend * spend;
            }
        }
    }

    private sealed class Rejections
    {
        public int FixedAtEnd;
        public int FixedAtAnyLook;
        public int AlwaysValidAtAnyLook;

        public void Record(LiftTest[] looks)
        {
            FixedAtEnd += looks[^1].PValue < Alpha ? 1 : 0;
            FixedAtAnyLook += looks.Any(l => l.PValue < Alpha) ? 1 : 0;
            AlwaysValidAtAnyLook += looks.Any(l => l.AlwaysValidPValue < Alpha) ? 1 : 0;
        }

        public string Describe(string metric) =>
            $"{metric}: fixed-horizon at the last look {Share(FixedAtEnd):F4}, fixed-horizon at any look {Share(FixedAtAnyLook):F4}, "
            + $"always-valid at any look {Share(AlwaysValidAtAnyLook):F4}";
    }

    private static double Share(int count) => (double)count / Experiments;

    [Fact]
    public void AA_experiments_peeked_daily_keep_the_false_positive_rate_only_with_the_always_valid_p_value()
    {
        var random = new Random(20240611);
        // The mixture tuned to the planned horizon: 14 days × 150 users × 2 arms.
        var options = new AlwaysValidOptions(Alpha, ExpectedUsers: 2L * Days * UsersPerArmPerDay);
        var conversion = new Rejections();
        var revenue = new Rejections();
        var conversionLooks = new LiftTest[Days];
        var revenueLooks = new LiftTest[Days];

        for (var experiment = 0; experiment < Experiments; experiment++)
        {
            var control = new Arm();
            var treatment = new Arm();
            for (var day = 0; day < Days; day++)
            {
                control.Add(random, UsersPerArmPerDay, 0.1);
                treatment.Add(random, UsersPerArmPerDay, 0.1);
                conversionLooks[day] = Estimators.Lift(treatment.Conversion, control.Conversion, options);
                revenueLooks[day] = Estimators.Lift(treatment.RevenuePerUser, control.RevenuePerUser, options);
            }

            conversion.Record(conversionLooks);
            revenue.Record(revenueLooks);
        }

        output.WriteLine(conversion.Describe("conversion"));
        output.WriteLine(revenue.Describe("revenue"));

        foreach (var rejections in new[] { conversion, revenue })
        {
            // Read once at the horizon, the fixed-horizon test rejects ≈ 5 % of A/A experiments (within 4 binomial sd).
            Assert.InRange(Share(rejections.FixedAtEnd), Alpha - 4 * RateSd, Alpha + 4 * RateSd);
            // The always-valid p-value may be read at every look: it rejects in at most α of them (+ 2 sd).
            Assert.True(Share(rejections.AlwaysValidAtAnyLook) <= Alpha + 2 * RateSd,
                $"always-valid rejections {Share(rejections.AlwaysValidAtAnyLook):F4}");
            // The fixed-horizon p-value read at every look rejects far more often (≈ 20 % for 14 looks, Armitage et al. 1969).
            Assert.True(Share(rejections.FixedAtAnyLook) > 2.5 * Alpha,
                $"fixed-horizon rejections at any look {Share(rejections.FixedAtAnyLook):F4}");
        }
    }

    [Fact]
    public void A_real_conversion_lift_is_significant_with_the_right_sign()
    {
        // Conversion 0.10 → 0.12 (a 20 % relative lift), 20,000 users per arm: z ≈ 0.02/√(0.09/2e4 + 0.1056/2e4) ≈ 6.4.
        var random = new Random(42);
        var control = new Arm();
        var treatment = new Arm();
        control.Add(random, 20_000, 0.10);
        treatment.Add(random, 20_000, 0.12);

        var lift = Estimators.Lift(treatment.Conversion, control.Conversion, new AlwaysValidOptions(ExpectedUsers: 40_000));
        output.WriteLine($"relative {lift.Relative}, p {lift.PValue:E3}, always-valid p {lift.AlwaysValidPValue:E3}, sequence {lift.AlwaysValid}");

        Assert.True(lift.PValue < 1e-4);
        Assert.InRange(lift.Relative.Value, 0.1, 0.3);
        Assert.True(lift.Relative.Low > 0);
        Assert.True(lift.AlwaysValidPValue < Alpha);
        Assert.True(lift.AlwaysValid.Low > 0);
        Assert.True(lift.AlwaysValid.Low < lift.Relative.Low && lift.AlwaysValid.High > lift.Relative.High);

        // The reverse comparison has the opposite sign and the same p-value.
        var reverse = Estimators.Lift(control.Conversion, treatment.Conversion);
        Assert.True(reverse.Relative.High < 0);
        Approx.Relative(lift.PValue, reverse.PValue, 1e-12);
    }
}
