using Recommend.Core.Ranking;

namespace Recommend.Core.Experiments;

/// <summary>An answer and the experiment arm that produced it.</summary>
/// <param name="Teams">Interleaving: the variant that placed each item, in item order; null otherwise.</param>
public sealed record ExperimentAnswer(RecommendationResult Result, string? ExperimentId, string? Variant, IReadOnlyList<string>? Teams)
{
    public static ExperimentAnswer Plain(RecommendationResult result) => new(result, null, null, null);
}

/// <summary>
/// Serving with experiments: on a placement with a running experiment, the user's assigned variant ranks (A/B) or both
/// variants rank and their lists are team-draft interleaved; the items shown are queued as exposures. Anonymous traffic
/// gets the control and is not counted. The answer's recommendation id names the experiment and arm, so events sent back
/// with it are attributed without any lookup.
/// </summary>
public sealed class ExperimentRouter(RunningExperiments running, ExposureLog exposures, ExperimentMetrics metrics, TimeProvider time)
{
    /// <summary>The variant name an interleaved answer carries; each item names its team.</summary>
    public const string InterleavedVariant = "interleaved";

    private const char Separator = '~';

    public async Task<ExperimentAnswer> RankAsync(
        RequestOptions options, RankingProfile defaultProfile, Func<RankingProfile, Task<RecommendationResult>> rank, CancellationToken ct)
    {
        if (await running.ForPlacementAsync(options.Placement, ct) is not { } experiment) return ExperimentAnswer.Plain(await rank(defaultProfile));
        if (options.UserId is not { } user)
        {
            var control = experiment.Control;
            return Tagged(await rank(ProfileOf(experiment, control)), experiment, control.Name, teams: null);
        }
        if (experiment.Mode == ExperimentMode.Interleaving) return await InterleaveAsync(experiment, user, options.Limit, rank);

        var variant = Assignment.VariantFor(experiment, user);
        var answer = Tagged(await rank(ProfileOf(experiment, variant)), experiment, variant.Name, teams: null);
        Expose(answer, experiment, variant.Name, user);
        return answer;
    }

    private async Task<ExperimentAnswer> InterleaveAsync(Experiment experiment, string user, int limit, Func<RankingProfile, Task<RecommendationResult>> rank)
    {
        var (a, b) = (experiment.Variants[0], experiment.Variants[1]);
        var rankings = await Task.WhenAll(rank(ProfileOf(experiment, a)), rank(ProfileOf(experiment, b)));
        var id = rankings[0].RecommendationId;
        // The coin is seeded by the answer, so an answer can be replayed exactly.
        var merged = TeamDraft.Interleave(rankings[0].Items, a.Name, rankings[1].Items, b.Name, limit, new Random(id.GetHashCode(StringComparison.Ordinal)));
        var result = new RecommendationResult(id, merged.Select(m => m.Item).ToList(), rankings[0].Degraded || rankings[1].Degraded,
            $"{experiment.Id}/{InterleavedVariant}");
        var answer = Tagged(result, experiment, InterleavedVariant, merged.Select(m => m.Team).ToList());
        Expose(answer, experiment, InterleavedVariant, user);
        return answer;
    }

    private static RankingProfile ProfileOf(Experiment experiment, ExperimentVariant variant) =>
        variant.Profile with { Name = $"{experiment.Id}/{variant.Name}" };

    private static ExperimentAnswer Tagged(RecommendationResult result, Experiment experiment, string variant, IReadOnlyList<string>? teams) =>
        new(result with { RecommendationId = $"{result.RecommendationId}{Separator}{experiment.Id}{Separator}{variant}" }, experiment.Id, variant, teams);

    private void Expose(ExperimentAnswer answer, Experiment experiment, string variant, string user)
    {
        var items = answer.Result.Items;
        if (items.Count == 0) return;
        var at = time.GetUtcNow();
        exposures.Enqueue(items.Select((item, i) => new Exposure(
            experiment.Id, variant, user, answer.Result.RecommendationId, item.Product.Id, i, answer.Teams?[i] ?? variant, at)).ToList());
        metrics.Exposed(experiment.Id, variant, items.Count);
    }

    /// <summary>The experiment and arm a recommendation id names, or null for an answer outside any experiment.</summary>
    public static (string ExperimentId, string Variant)? ArmOf(string? recommendationId)
    {
        // Most events quote no experiment answer: answer those without splitting (this runs for every event recorded).
        if (recommendationId is null || !recommendationId.Contains(Separator)) return null;
        var parts = recommendationId.Split(Separator);
        return parts.Length == 3 ? (parts[1], parts[2]) : null;
    }
}
