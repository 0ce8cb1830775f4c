using Recommend.Core.Errors;
using Recommend.Core.Experiments;
using Recommend.Core.Ranking;

namespace Recommend.Core.Tests.Experiments;

public class ExperimentRulesTests
{
    private static readonly Experiment Valid = new()
    {
        Id = "", Name = "Diversity test", Placements = ["home"], Salt = "", CreatedAt = DateTimeOffset.UnixEpoch,
        Variants = [new("A", 1, true, RankingProfile.Default), new("B", 1, false, RankingProfile.Default with { DiversityLambda = 0.5 })],
    };

    [Fact]
    public void A_well_formed_experiment_passes()
    {
        ExperimentRules.Validate(Valid);
        ExperimentRules.Validate(Valid with { Id = "exp-2026.q1_test", Mode = ExperimentMode.Interleaving });
    }

    public static TheoryData<Experiment, string> Broken => new()
    {
        { Valid with { Id = "has space" }, "experiment.experiment_id" },
        { Valid with { Name = " " }, "experiment.name" },
        { Valid with { Placements = [] }, "experiment.placements" },
        { Valid with { Placements = ["home", "home"] }, "experiment.placements" },
        { Valid with { Placements = ["bad~placement"] }, "experiment.placements[0]" },
        { Valid with { AttributionWindow = TimeSpan.Zero }, "experiment.attribution_window" },
        { Valid with { Variants = [Valid.Variants[0]] }, "experiment.variants" },
        { Valid with { Mode = ExperimentMode.Interleaving, Variants = [.. Valid.Variants, new("C", 1, false, RankingProfile.Default)] }, "experiment.variants" },
        { Valid with { Variants = [Valid.Variants[0], Valid.Variants[1] with { Control = true }] }, "experiment.variants" },
        { Valid with { Variants = [Valid.Variants[0], Valid.Variants[1] with { Name = "A" }] }, "experiment.variants" },
        { Valid with { Variants = [Valid.Variants[0], Valid.Variants[1] with { Name = "interleaved" }] }, "experiment.variants[1].name" },
        { Valid with { Variants = [Valid.Variants[0], Valid.Variants[1] with { Weight = 0 }] }, "experiment.variants[1].weight" },
        { Valid with { Variants = [Valid.Variants[0], Valid.Variants[1] with { Weight = double.NaN }] }, "experiment.variants[1].weight" },
        { Valid with { Variants = [Valid.Variants[0], Valid.Variants[1] with { Profile = RankingProfile.Default with { DiversityLambda = 2 } }] },
            "experiment.variants[1].profile.diversity_lambda" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void A_broken_rule_names_the_field(Experiment experiment, string field)
    {
        Assert.Equal(field, Assert.Throws<InvalidRequestException>(() => ExperimentRules.Validate(experiment)).Field);
    }
}
