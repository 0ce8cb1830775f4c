using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recommend.Core.Errors;

namespace Recommend.Sqlite;

/// <summary>
/// Counts the co-purchase pairs that bulk batches queued (<see cref="SqliteStore.CountPairsInlineUpTo"/>), for the
/// host's lifetime. SQLite has one writer, so while an import keeps writing the counter waits and the import is
/// acknowledged at the speed of its events alone; it counts once writes pause, or, once the oldest queued item is
/// <see cref="MaxLag"/> old, takes turns with the writers (a batch of its own between theirs) until it catches up.
/// </summary>
public sealed class CoPurchaseCounter(SqliteStore store, ILogger<CoPurchaseCounter> logger) : BackgroundService
{
    /// <summary>Items per transaction: large enough to sum many increments per counter, short enough to let writers in.</summary>
    public const int BatchSize = 20_000;

    /// <summary>How late pair counts may fall before the counter stops waiting for an import to pause.</summary>
    public static readonly TimeSpan MaxLag = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan WritesPaused = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ErrorDelay = TimeSpan.FromSeconds(1);
    private static readonly Meter Meter = new("Recommend.Sqlite");
    private static double _lagSeconds;

    // The same instrument as the PostgreSQL store's updater: one alert covers either store.
    static CoPurchaseCounter() =>
        Meter.CreateObservableGauge("recommend.copurchase.ingest_lag", () => Volatile.Read(ref _lagSeconds), "s",
            "Age of the oldest purchase not yet counted into co-purchase pairs");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                var pause = PollInterval;
                try
                {
                    var lag = await store.CoPurchaseLagAsync(stoppingToken);
                    Volatile.Write(ref _lagSeconds, lag?.TotalSeconds ?? 0);
                    if (lag >= MaxLag || (lag is not null && store.SinceLastEventWrite >= WritesPaused))
                        pause = await store.CountQueuedPairsAsync(BatchSize, stoppingToken) == BatchSize ? TimeSpan.Zero : PollInterval;
                }
                catch (Exception e) when (e is DependencyUnavailableException or Microsoft.Data.Sqlite.SqliteException && !stoppingToken.IsCancellationRequested)
                {
                    // The batch was rolled back whole and stays queued.
                    logger.LogError(e, "Co-purchase counting failed; retrying in {Delay}", ErrorDelay);
                    pause = ErrorDelay;
                }
                if (pause > TimeSpan.Zero) await Task.Delay(pause, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: a batch in flight was rolled back and is counted after the next start.
        }
    }
}
