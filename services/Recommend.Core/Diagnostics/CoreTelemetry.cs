using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Recommend.Core.Diagnostics;

/// <summary>
/// The core's spans and instruments (source and meter "Recommend.Core"): ranking stages, embedding batches, degraded
/// answers. Static, as .NET libraries keep them: they cost nothing until a listener (OpenTelemetry) subscribes.
/// Labels are low-cardinality names only, never user or product ids.
/// </summary>
public static class CoreTelemetry
{
    public const string Name = "Recommend.Core";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);
    private static readonly Counter<long> DegradedAnswers = Meter.CreateCounter<long>("recommend.ranking.degraded", "{answer}",
        "Answers served without a signal (vectors, history, catalog, ...) because its backend failed");
    private static readonly Counter<long> EmbedderBatches = Meter.CreateCounter<long>("recommend.embedder.batches", "{batch}", "Embedding calls");
    private static readonly Counter<long> EmbedderTexts = Meter.CreateCounter<long>("recommend.embedder.texts", "{text}", "Texts embedded");
    private static readonly Counter<long> EmbedderTokens = Meter.CreateCounter<long>("recommend.embedder.tokens", "{token}", "Tokens fed to the model");
    private static readonly Histogram<double> EmbedderDuration = Meter.CreateHistogram("recommend.embedder.batch.duration", "s", "Time to embed one call's texts",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    public static void SignalDegraded(string signal) => DegradedAnswers.Add(1, new KeyValuePair<string, object?>("signal", signal));

    /// <param name="tokens">Tokens the model read; 0 for embedders without a tokenizer.</param>
    public static void Embedded(string embedder, int texts, long tokens, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>("embedder", embedder);
        EmbedderBatches.Add(1, tag);
        EmbedderTexts.Add(texts, tag);
        if (tokens > 0) EmbedderTokens.Add(tokens, tag);
        EmbedderDuration.Record(elapsed.TotalSeconds, tag);
    }
}
