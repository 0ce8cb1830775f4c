using Recommend.Core.Ranking;

namespace Recommend.Evaluation;

/// <summary>One profile tried and how it scored in one setting.</summary>
public sealed record TuningTrial(string Change, Setting Setting, RankingProfile Profile, MethodScore Score, bool Eligible);

/// <summary>
/// Coordinate search over the default profile's knobs — weights, half-life, profile size, diversity — on the validation
/// period only: each round tries every value of one knob with the others held, keeps the best, and moves on. A profile
/// whose top-10 lists cover less of the catalog than EASE's do on the same customers is not eligible: accuracy bought
/// with narrower lists is not what a shop wants. (The floor is relative because coverage grows with the number of
/// customers: the validation period has fewer than the test period.) The buy-again weight acts only on buy-again requests, so it is searched last,
/// on the buy-again setting.
/// </summary>
public static class ProfileTuner
{
    private static readonly (string Knob, Func<RankingProfile, double, RankingProfile> Set, double[] Values)[] Knobs =
    [
        ("learned_weight", (p, v) => p with { LearnedWeight = v }, [0, 0.5, 1, 1.5, 2, 3]),
        ("similarity_weight", (p, v) => p with { SimilarityWeight = v }, [0, 0.15, 0.3, 0.6, 1]),
        ("co_purchase_weight", (p, v) => p with { CoPurchaseWeight = v }, [0, 0.1, 0.2, 0.4, 0.8]),
        ("trending_weight", (p, v) => p with { TrendingWeight = v }, [0, 0.05, 0.1, 0.2, 0.3, 0.4]),
        ("profile_half_life_days", (p, v) => p with { ProfileHalfLife = TimeSpan.FromDays(v) }, [7, 15, 30, 60, 120]),
        ("profile_interactions", (p, v) => p with { ProfileInteractions = (int)v }, [10, 30, 100, 150, 200, 300]),
        ("diversity_lambda", (p, v) => p with { DiversityLambda = v }, [0.6, 0.8, 0.9, 1]),
    ];

    private static readonly double[] BuyAgainWeights = [0, 0.5, 1, 2, 4, 8];

    /// <param name="cases">The validation period's customers in each setting.</param>
    /// <param name="minCoverage">The coverage a profile must reach to be chosen (EASE's on the same cases).</param>
    public static async Task<IReadOnlyList<TuningTrial>> TuneAsync(EvaluatedService service, IReadOnlyDictionary<Setting, IReadOnlyList<TestCase>> cases,
        int k, int catalogSize, double minCoverage, int rounds, IProgress<EvaluationProgress>? progress, CancellationToken ct)
    {
        var trials = new List<TuningTrial>();
        var tried = new Dictionary<(RankingProfile, Setting), TuningTrial>();
        var steps = rounds * Knobs.Sum(k => k.Values.Length) + BuyAgainWeights.Length;
        var step = 0;

        async Task<TuningTrial> TryAsync(string change, RankingProfile profile, Setting setting = Setting.NewItems)
        {
            progress?.Report(new EvaluationProgress($"tuning · {change}", ++step, steps));
            if (tried.TryGetValue((profile, setting), out var known)) return known;
            var score = await Evaluator.ScoreAsync(service.Ranker("candidate", profile), cases[setting], setting, k, catalogSize, null, ct);
            var trial = new TuningTrial(change, setting, profile, score, score.Coverage >= minCoverage);
            tried[(profile, setting)] = trial;
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
        var bestAgain = await TryAsync("buy-again start", best.Profile, Setting.BuyAgain);
        foreach (var weight in BuyAgainWeights)
        {
            var trial = await TryAsync($"buy_again_weight = {weight}", best.Profile with { BuyAgainWeight = weight }, Setting.BuyAgain);
            if (Better(trial, bestAgain)) bestAgain = trial;
        }
        return trials;
    }

    /// <summary>Eligible beats ineligible; then higher NDCG.</summary>
    public static bool Better(TuningTrial candidate, TuningTrial incumbent) =>
        candidate.Eligible != incumbent.Eligible ? candidate.Eligible : candidate.Score.Ndcg > incumbent.Score.Ndcg;

    /// <summary>
    /// Validation NDCG this close to the best counts as a tie: differences of that size move between periods (the
    /// validation margin of the previous default did not carry over to the test month), while wider lists are a lasting
    /// gain to a shop.
    /// </summary>
    public const double NearBest = 0.02;

    /// <summary>
    /// The chosen profile: of the eligible new-items trials within <see cref="NearBest"/> of the best NDCG, the one with
    /// the widest lists (then the higher NDCG); its buy-again weight from the buy-again trials.
    /// </summary>
    public static TuningTrial Best(IReadOnlyList<TuningTrial> trials)
    {
        TuningTrial BestOf(IEnumerable<TuningTrial> of) => of.Aggregate((best, t) => Better(t, best) ? t : best);
        var again = BestOf(trials.Where(t => t.Setting == Setting.BuyAgain));
        var newItems = trials.Where(t => t.Setting == Setting.NewItems).ToList();
        var top = BestOf(newItems);
        var chosen = newItems
            .Where(t => t.Eligible == top.Eligible && t.Score.Ndcg >= (1 - NearBest) * top.Score.Ndcg)
            .OrderByDescending(t => t.Score.Coverage).ThenByDescending(t => t.Score.Ndcg)
            .First();
        return chosen with { Profile = chosen.Profile with { BuyAgainWeight = again.Profile.BuyAgainWeight } };
    }
}
