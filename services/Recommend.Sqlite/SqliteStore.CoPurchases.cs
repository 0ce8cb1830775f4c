using Dapper;
using System.Diagnostics;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore
{
    private long _lastEventWrite = Stopwatch.GetTimestamp();

    /// <summary>
    /// Counts the co-purchase pairs of up to <paramref name="limit"/> basket items that bulk batches queued, oldest
    /// first, in one write transaction that also takes them off the queue, so each counts exactly once whatever
    /// crashes. Returns how many it took: 0 when the queue is empty.
    /// </summary>
    public Task<int> CountQueuedPairsAsync(int limit, CancellationToken ct) =>
        WriteAsync(transaction => _eventWriter.CountQueued(transaction, limit), ct);

    public async Task SettleCoPurchasesAsync(CancellationToken ct)
    {
        while (await CountQueuedPairsAsync(CoPurchaseCounter.BatchSize, ct) > 0) { }
    }

    /// <summary>How late the counts are: the age of the oldest queued item, or null when nothing is queued.</summary>
    public Task<TimeSpan?> CoPurchaseLagAsync(CancellationToken ct) => ReadAsync(async connection =>
    {
        var oldest = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT queued_at FROM co_purchase_queue ORDER BY id LIMIT 1", cancellationToken: ct));
        return oldest is { } at ? DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(at) : (TimeSpan?)null;
    }, ct);

    /// <summary>Time since events were last written: a bulk import is under way while this stays short.</summary>
    internal TimeSpan SinceLastEventWrite => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastEventWrite));

    private void EventsWritten() => Volatile.Write(ref _lastEventWrite, Stopwatch.GetTimestamp());
}
