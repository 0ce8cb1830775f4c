using Recommend.Core.History;

namespace Recommend.Core.Experiments;

/// <summary>
/// Live attribution for the metrics: an event that comes back with an experiment answer's recommendation id counts
/// toward that experiment's arm at once. Only running experiments and their own arms become labels, so a client cannot
/// invent label values. (The report attributes exactly, including events without a recommendation id; this is the
/// at-a-glance view for Grafana, and a retried event may count twice here.)
/// </summary>
public sealed class ExperimentAttribution(RunningExperiments running, ExperimentMetrics metrics)
{
    public async Task ObserveAsync(IReadOnlyList<UserEvent> events, CancellationToken ct)
    {
        foreach (var e in events)
        {
            if (e.Type == EventType.View || ExperimentRouter.ArmOf(e.RecommendationId) is not var (experimentId, variant)) continue;
            if (await running.ByIdAsync(experimentId, ct) is not { } experiment) continue;
            if (variant != ExperimentRouter.InterleavedVariant && !experiment.Variants.Any(v => v.Name == variant)) continue;
            metrics.Attributed(experimentId, variant, e.Type switch
            {
                EventType.Click => "click",
                EventType.AddToCart => "add_to_cart",
                _ => "purchase",
            });
        }
    }
}
