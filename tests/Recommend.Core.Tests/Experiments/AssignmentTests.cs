using Recommend.Core.Experiments;
using Recommend.Core.Ranking;

namespace Recommend.Core.Tests.Experiments;

public class AssignmentTests
{
    private static Experiment Split(params double[] weights) => new()
    {
        Id = "exp-1", Name = "split", Placements = ["home"], Salt = "a1b2c3", CreatedAt = DateTimeOffset.UnixEpoch,
        Variants = weights.Select((w, i) => new ExperimentVariant($"v{i}", w, i == 0, RankingProfile.Default)).ToList(),
    };

    /// <summary>Expected buckets computed independently (32-bit FNV-1a of "salt:user", modulo 10,000).</summary>
    [Theory]
    [InlineData("a1b2c3", "user-1", 5236)]
    [InlineData("a1b2c3", "user-2", 8093)]
    [InlineData("salt", "14646", 5864)]
    [InlineData("other-salt", "14646", 7885)]
    public void A_user_falls_in_the_same_bucket_in_every_process(string salt, string userId, int bucket)
    {
        Assert.Equal(bucket, Assignment.Bucket(userId, salt));
    }

    [Fact]
    public void Buckets_map_to_variants_by_weight()
    {
        var experiment = Split(1, 3);

        // v0 owns buckets [0, 2500), v1 the rest: user-1 (5236) and user-2 (8093) land in v1.
        Assert.Equal("v1", Assignment.VariantFor(experiment, "user-1").Name);
        Assert.Equal("v0", Assignment.VariantFor(experiment with { Salt = "salt" }, Enumerable.Range(0, 100)
            .Select(i => $"u{i}").First(u => Assignment.Bucket(u, "salt") < 2500)).Name);
    }

    [Theory]
    [InlineData(new[] { 1.0, 1.0 })]
    [InlineData(new[] { 1.0, 1.0, 2.0 })]
    [InlineData(new[] { 0.9, 0.1 })]
    public void A_hundred_thousand_users_split_as_configured_within_chi_square_tolerance(double[] weights)
    {
        var experiment = Split(weights);
        var counts = new long[weights.Length];
        for (var i = 0; i < 100_000; i++) counts[int.Parse(Assignment.VariantFor(experiment, $"customer-{i}").Name[1..])]++;

        var total = weights.Sum();
        var chiSquare = counts.Select((observed, i) => Math.Pow(observed - 100_000 * weights[i] / total, 2) / (100_000 * weights[i] / total)).Sum();
        // 99.9th percentile of χ² with 1 and 2 degrees of freedom: 10.83 and 13.82.
        Assert.True(chiSquare < (weights.Length == 2 ? 10.83 : 13.82), $"χ² = {chiSquare:F2} for {string.Join("/", counts)}");
    }

    [Fact]
    public void A_new_salt_reshuffles_users_and_the_same_salt_keeps_them()
    {
        var experiment = Split(1, 1);
        var users = Enumerable.Range(0, 2_000).Select(i => $"u{i}").ToList();

        var first = users.Select(u => Assignment.VariantFor(experiment, u).Name).ToList();
        var again = users.Select(u => Assignment.VariantFor(experiment, u).Name).ToList();
        var resalted = users.Select(u => Assignment.VariantFor(experiment with { Salt = "another" }, u).Name).ToList();

        Assert.Equal(first, again);
        var moved = first.Zip(resalted).Count(p => p.First != p.Second);
        Assert.InRange(moved, 850, 1150); // about half move under an independent hash
    }
}
