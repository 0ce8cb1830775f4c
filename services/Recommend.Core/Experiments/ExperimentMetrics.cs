using System.Diagnostics.Metrics;

namespace Recommend.Core.Experiments;

/// <summary>
/// Live counters per experiment and variant for Prometheus/Grafana (exported as recommend_experiment_*_total): labels
/// are the experiment id and variant name only — never user or product ids. The report, not these, is the exact record.
/// </summary>
public sealed class ExperimentMetrics : IDisposable
{
    public const string MeterName = "Recommend.Experiments";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _exposures;
    private readonly Counter<long> _attributed;
    private readonly Counter<long> _dropped;

    public ExperimentMetrics()
    {
        _exposures = _meter.CreateCounter<long>("recommend.experiment.exposures", "{exposure}", "Items shown by a running experiment");
        _attributed = _meter.CreateCounter<long>("recommend.experiment.attributed_events", "{event}",
            "Clicks, add-to-carts and purchases received with the recommendation id of an experiment's answer");
        _dropped = _meter.CreateCounter<long>("recommend.experiment.exposures_dropped", "{exposure}",
            "Exposures not recorded because the exposure queue was full or the store refused them");
    }

    public void Exposed(string experimentId, string variant, int count) =>
        _exposures.Add(count, new KeyValuePair<string, object?>("experiment", experimentId), new KeyValuePair<string, object?>("variant", variant));

    public void Attributed(string experimentId, string variant, string eventType) =>
        _attributed.Add(1,
            new KeyValuePair<string, object?>("experiment", experimentId),
            new KeyValuePair<string, object?>("variant", variant),
            new KeyValuePair<string, object?>("type", eventType));

    public void ExposureDropped(int count = 1) => _dropped.Add(count);

    /// <summary>Publishes the exposure queue's depth: exposures accepted but not yet written.</summary>
    public void ObserveQueue(Func<int> depth) =>
        _meter.CreateObservableGauge("recommend.experiment.exposure_queue.depth", depth, "{exposure}", "Exposures queued, not yet written to the store");

    public void Dispose() => _meter.Dispose();
}
