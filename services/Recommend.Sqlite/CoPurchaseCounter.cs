using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recommend.Core.Errors;

namespace Recommend.Sqlite;

/// <summary>
/// Counts the co-purchase pairs that bulk batches queued (<see cref="SqliteStore.CountPairsInlineUpTo"/>), for the
/// host's lifetime. SQLite has one writer, so while an import keeps writing the counter waits and the import is
/// acknowledged at the speed of its events alone; it counts once writes pause for <see cref="WritesPaused"/>, or, once
/// the oldest queued item is <see cref="MaxLag"/> old, takes turns with the writers (a short batch of its own,
/// <see cref="TurnSize"/> items, between theirs) until it catches up.
/// </summary>
public sealed class CoPurchaseCounter(SqliteStore store, ILogger<CoPurchaseCounter> logger) : BackgroundService
{
    /// <summary>Items per transaction: large enough to sum many increments per counter, short enough to let writers in.</summary>
    public const int BatchSize = 20_000;

    /// <summary>Items per transaction while an import still writes: a pause it barely notices (UCI: about 0.1 s).</summary>
    public const int TurnSize = 2_000;

    /// <summary>How late pair counts may fall before the counter stops waiting for an import to pause.</summary>
    public static readonly TimeSpan MaxLag = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    /// <summary>
    /// How long writes must stop before the counter takes full batches: longer than an importing client's hiccups
    /// (a collection, a slow read), which would otherwise hand the writer lock to a batch of 20,000 items.
    /// </summary>
    public static readonly TimeSpan WritesPaused = TimeSpan.FromSeconds(1);
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
                    if (lag is not null && store.SinceLastEventWrite >= WritesPaused)
                        pause = await store.CountQueuedPairsAsync(BatchSize, stoppingToken) == BatchSize ? TimeSpan.Zero : PollInterval;
                    else if (lag >= MaxLag)
                        pause = await store.CountQueuedPairsAsync(TurnSize, stoppingToken) == TurnSize ? TimeSpan.Zero : PollInterval;
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
