using Google.Protobuf.WellKnownTypes;
using Recommend.Core.Experiments;
using Recommend.Core.Experiments.Statistics;
using Recommend.Core.Ranking;
using Proto = Recommend.Contracts.V1;
using static Recommend.Api.Grpc.RequestValidation;

namespace Recommend.Api.Grpc;

/// <summary>Experiments and reports between proto messages and the domain; field names in errors are the proto's.</summary>
internal static class ExperimentMapping
{
    private static readonly TimeSpan LongestDuration = TimeSpan.FromDays(3650);

    private static readonly (string Name, CandidateSources Source)[] SourceNames =
        [("similar", CandidateSources.Similar), ("bought_together", CandidateSources.BoughtTogether), ("trending", CandidateSources.Trending), ("learned", CandidateSources.Learned)];

    public static Experiment ToDomain(Proto.Experiment e, RankingProfile defaults)
    {
        var mode = e.Mode switch
        {
            "" or "ab" => ExperimentMode.AB,
            "interleaving" => ExperimentMode.Interleaving,
            _ => throw Invalid("experiment.mode", "must be \"ab\" or \"interleaving\""),
        };
        if (e.Variants.Count > ExperimentRules.MaxVariants) throw Invalid("experiment.variants", $"at most {ExperimentRules.MaxVariants} variants");
        if (e.Placements.Count > ExperimentRules.MaxPlacements) throw Invalid("experiment.placements", $"at most {ExperimentRules.MaxPlacements} placements");
        return new Experiment
        {
            Id = e.ExperimentId,
            Name = e.Name,
            Description = e.Description,
            Placements = e.Placements.ToList(),
            Mode = mode,
            Variants = e.Variants.Select((v, i) => new ExperimentVariant(v.Name, v.Weight, v.Control,
                Profile(v.Profile, defaults, $"experiment.variants[{i}].profile"))).ToList(),
            CreatedAt = default,
            Salt = "",
            AttributionWindow = e.AttributionWindow is null ? Experiment.DefaultAttributionWindow : Duration(e.AttributionWindow, "experiment.attribution_window"),
        };
    }

    private static RankingProfile Profile(Proto.RankingProfile? p, RankingProfile defaults, string field)
    {
        var profile = defaults;
        if (p is null) return profile;
        var sources = CandidateSources.None;
        foreach (var name in p.CandidateSources)
        {
            sources |= SourceNames.FirstOrDefault(s => s.Name == name).Source is var source and not CandidateSources.None
                ? source
                : throw Invalid($"{field}.candidate_sources", "must be similar, bought_together, trending or learned");
        }
        return profile with
        {
            SimilarityWeight = p.HasSimilarityWeight ? p.SimilarityWeight : profile.SimilarityWeight,
            CoPurchaseWeight = p.HasCoPurchaseWeight ? p.CoPurchaseWeight : profile.CoPurchaseWeight,
            TrendingWeight = p.HasTrendingWeight ? p.TrendingWeight : profile.TrendingWeight,
            LearnedWeight = p.HasLearnedWeight ? p.LearnedWeight : profile.LearnedWeight,
            BuyAgainWeight = p.HasBuyAgainWeight ? p.BuyAgainWeight : profile.BuyAgainWeight,
            DiversityLambda = p.HasDiversityLambda ? p.DiversityLambda : profile.DiversityLambda,
            ProfileHalfLife = p.ProfileHalfLife is null ? profile.ProfileHalfLife : Duration(p.ProfileHalfLife, $"{field}.profile_half_life"),
            ProfileInteractions = p.HasProfileInteractions ? p.ProfileInteractions : profile.ProfileInteractions,
            ContextWeight = p.HasContextWeight ? p.ContextWeight : profile.ContextWeight,
            Sources = p.CandidateSources.Count == 0 ? profile.Sources : sources,
        };
    }

    private static TimeSpan Duration(Duration duration, string field)
    {
        if (duration.Seconds is < 0 or > 315_360_000 || duration.Nanos is < 0 or > 999_999_999) throw Invalid(field, "must be between 0 and 3650 days");
        var span = duration.ToTimeSpan();
        return span <= LongestDuration ? span : throw Invalid(field, "must be between 0 and 3650 days");
    }

    public static Proto.Experiment ToProto(this Experiment e)
    {
        var proto = new Proto.Experiment
        {
            ExperimentId = e.Id,
            Name = e.Name,
            Description = e.Description,
            Mode = e.Mode == ExperimentMode.Interleaving ? "interleaving" : "ab",
            Status = e.Status.ToString().ToLowerInvariant(),
            CreatedAt = Timestamp.FromDateTimeOffset(e.CreatedAt),
            StartedAt = e.StartedAt is { } started ? Timestamp.FromDateTimeOffset(started) : null,
            StoppedAt = e.StoppedAt is { } stopped ? Timestamp.FromDateTimeOffset(stopped) : null,
            AttributionWindow = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(e.AttributionWindow),
        };
        proto.Placements.AddRange(e.Placements);
        proto.Variants.AddRange(e.Variants.Select(v => new Proto.Variant { Name = v.Name, Weight = v.Weight, Control = v.Control, Profile = ToProto(v.Profile) }));
        return proto;
    }

    private static Proto.RankingProfile ToProto(RankingProfile p)
    {
        var proto = new Proto.RankingProfile
        {
            SimilarityWeight = p.SimilarityWeight,
            CoPurchaseWeight = p.CoPurchaseWeight,
            TrendingWeight = p.TrendingWeight,
            LearnedWeight = p.LearnedWeight,
            BuyAgainWeight = p.BuyAgainWeight,
            DiversityLambda = p.DiversityLambda,
            ProfileHalfLife = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(p.ProfileHalfLife),
            ProfileInteractions = p.ProfileInteractions,
            ContextWeight = p.ContextWeight,
        };
        proto.CandidateSources.AddRange(SourceNames.Where(s => p.Sources.HasFlag(s.Source)).Select(s => s.Name));
        return proto;
    }

    public static Proto.ExperimentReport ToProto(this ExperimentReport report)
    {
        var proto = new Proto.ExperimentReport
        {
            Experiment = report.Experiment.ToProto(),
            From = Timestamp.FromDateTimeOffset(report.From),
            To = Timestamp.FromDateTimeOffset(report.To),
            Srm = new Proto.SampleRatioMismatch
            {
                ChiSquare = report.Srm.ChiSquare, PValue = report.Srm.PValue, Alarm = report.Srm.Alarm, Threshold = report.Srm.Threshold,
                ExpectedShare = { report.Srm.ExpectedShare }, ObservedShare = { report.Srm.ObservedShare },
            },
            PValueNote = report.PValueNote,
            ComputedAt = Timestamp.FromDateTimeOffset(report.ComputedAt),
        };
        proto.Variants.AddRange(report.Variants.Select(ToProto));
        proto.Daily.AddRange(report.Daily.Select(d => new Proto.DailyPoint
        {
            Day = d.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), Variant = d.Variant, Exposures = d.Exposures,
            Clicks = d.Clicks, Purchases = d.Purchases, Revenue = d.Revenue,
        }));
        if (report.Interleaving is { } interleaving)
        {
            var t = interleaving.Totals;
            proto.Interleaving = new Proto.InterleavingResult
            {
                TeamA = t.TeamA, TeamB = t.TeamB, ClicksA = t.ClicksA, ClicksB = t.ClicksB, PurchasesA = t.PurchasesA, PurchasesB = t.PurchasesB,
                UsersPreferringA = t.UsersPreferringA, UsersPreferringB = t.UsersPreferringB, UsersTied = t.UsersTied,
                PreferenceB = ToProto(interleaving.Preference.ShareForB), PValue = interleaving.Preference.PValue, Winner = interleaving.Winner ?? "",
            };
        }
        return proto;
    }

    private static Proto.VariantReport ToProto(VariantReport v)
    {
        var proto = new Proto.VariantReport
        {
            Name = v.Name, Control = v.Control, Weight = v.Weight, UsersAssigned = v.Totals.UsersAssigned, UsersExposed = v.Totals.UsersExposed,
            Exposures = v.Totals.Exposures, Clicks = v.Totals.Clicks, AddToCarts = v.Totals.AddToCarts, Purchases = v.Totals.Purchases,
            Revenue = v.Totals.Revenue,
        };
        proto.Metrics.AddRange(v.Metrics.Select(m => new Proto.MetricResult
        {
            Metric = m.Metric,
            Estimate = ToProto(m.Estimate.Estimate),
            Lift = m.Lift is null ? null : ToProto(m.Lift),
            CupedEstimate = m.Cuped is null ? null : ToProto(m.Cuped.Adjusted.Estimate),
            CupedLift = m.CupedLift is null ? null : ToProto(m.CupedLift),
            CupedVarianceReduction = m.Cuped?.VarianceReduction ?? 0,
        }));
        return proto;
    }

    private static Proto.Lift ToProto(LiftTest lift) => new()
    {
        Relative = ToProto(lift.Relative), PValue = lift.PValue, AlwaysValidPValue = lift.AlwaysValidPValue, AlwaysValid = ToProto(lift.AlwaysValid),
    };

    private static Proto.Estimate ToProto(Interval interval) => new() { Value = Finite(interval.Value), CiLow = Finite(interval.Low), CiHigh = Finite(interval.High) };

    /// <summary>JSON has no infinity: an unbounded interval end (too little data) goes out as the largest double.</summary>
    private static double Finite(double value) => double.IsNaN(value) ? 0 : Math.Clamp(value, double.MinValue, double.MaxValue);
}
