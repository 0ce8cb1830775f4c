using System.Diagnostics.Metrics;
using Recommend.Indexing.Jobs;

namespace Recommend.Indexing.Pipeline;

/// <summary>Re-index throughput (meter "Recommend.Indexing"): source rows processed, by mode, as batches commit.</summary>
internal static class ReindexMetrics
{
    private static readonly Meter Meter = new("Recommend.Indexing");
    private static readonly Counter<long> Processed = Meter.CreateCounter<long>("recommend.reindex.processed", "{product}", "Source rows a re-index run has committed");

    public static void Committed(ReindexMode mode, long rows)
    {
        if (rows > 0) Processed.Add(rows, new KeyValuePair<string, object?>("mode", mode == ReindexMode.Full ? "full" : "incremental"));
    }
}
