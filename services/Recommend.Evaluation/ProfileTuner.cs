using Recommend.Core.Ranking;

namespace Recommend.Evaluation;

/// <summary>One profile tried and how it scored (new items).</summary>
public sealed record TuningTrial(string Change, RankingProfile Profile, MethodScore Score, bool Eligible);

/// <summary>
/// Coordinate search over the default profile's knobs — weights, half-life, profile size, diversity — on the validation
/// period only: each round tries every value of one knob with the others held, keeps the best, and moves on. A profile
/// whose top-10 lists cover less than <see cref="MinCoverage"/> of the catalog is not eligible (accuracy bought with a
/// narrow list is not what a shop wants).
/// </summary>
public static class ProfileTuner
{
    public const double MinCoverage = 0.30;

    private static readonly (string Knob, Func<RankingProfile, double, RankingProfile> Set, double[] Values)[] Knobs =
    [
        ("learned_weight", (p, v) => p with { LearnedWeight = v }, [0, 0.5, 1, 1.5, 2, 3]),
        ("similarity_weight", (p, v) => p with { SimilarityWeight = v }, [0, 0.15, 0.3, 0.6, 1]),
        ("co_purchase_weight", (p, v) => p with { CoPurchaseWeight = v }, [0, 0.1, 0.2, 0.4, 0.8]),
        ("trending_weight", (p, v) => p with { TrendingWeight = v }, [0, 0.05, 0.1, 0.2, 0.3]),
        ("profile_half_life_days", (p, v) => p with { ProfileHalfLife = TimeSpan.FromDays(v) }, [7, 15, 30, 60, 120]),
        ("profile_interactions", (p, v) => p with { ProfileInteractions = (int)v }, [10, 30, 100, 200]),
        ("diversity_lambda", (p, v) => p with { DiversityLambda = v }, [0.6, 0.8, 0.9, 1]),
    ];

    public static async Task<IReadOnlyList<TuningTrial>> TuneAsync(EvaluatedService service, IReadOnlyList<TestCase> cases, int k, int catalogSize,
        int rounds, IProgress<EvaluationProgress>? progress, CancellationToken ct)
    {
        var trials = new List<TuningTrial>();
        var tried = new Dictionary<RankingProfile, TuningTrial>();
        var steps = rounds * Knobs.Sum(k => k.Values.Length);
        var step = 0;

        async Task<TuningTrial> TryAsync(string change, RankingProfile profile)
        {
            progress?.Report(new EvaluationProgress($"tuning · {change}", ++step, steps));
            if (tried.TryGetValue(profile, out var known)) return known;
            var score = await Evaluator.ScoreAsync(service.Ranker("candidate", profile), cases, Setting.NewItems, k, catalogSize, null, ct);
            var trial = new TuningTrial(change, profile, score, score.Coverage >= MinCoverage);
            tried[profile] = trial;
            trials.Add(trial);
            return trial;
        }

        var best = await TryAsync("start: the current default", service.DefaultProfile);
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (knob, set, values) in Knobs)
            {
                foreach (var value in values)
                {
                    var trial = await TryAsync($"{knob} = {value}", set(best.Profile, value));
                    if (Better(trial, best)) best = trial;
                }
            }
        }
        return trials;
    }

    /// <summary>Eligible beats ineligible; then higher NDCG.</summary>
    public static bool Better(TuningTrial candidate, TuningTrial incumbent) =>
        candidate.Eligible != incumbent.Eligible ? candidate.Eligible : candidate.Score.Ndcg > incumbent.Score.Ndcg;

    public static TuningTrial Best(IReadOnlyList<TuningTrial> trials) => trials.Aggregate((best, t) => Better(t, best) ? t : best);
}
