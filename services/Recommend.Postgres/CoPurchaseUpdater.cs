using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Recommend.Postgres;

/// <summary>
/// The durable background step behind co-purchase counts: folds the basket items that
/// <see cref="PostgresStore.RecordEventsAsync"/> queued into <c>co_purchases</c> and <c>product_stats.baskets</c>.
/// Each batch deletes its items from the queue in the same transaction that counts them, so an item counts exactly
/// once whatever crashes; replicas may each run one, as batches take a transaction-level advisory lock and so apply
/// one at a time.
/// </summary>
/// <remarks>
/// Basket totals are kept here rather than by the writer so that they always describe the same baskets as the pair
/// counts: a reader never sees a pair count above a basket total, nor totals for baskets whose pairs are not in yet.
/// </remarks>
public sealed class CoPurchaseUpdater(NpgsqlDataSource dataSource, CoPurchaseUpdaterOptions? options = null, ILogger<CoPurchaseUpdater>? logger = null)
{
    private const string LockUpdater = "select pg_advisory_xact_lock(@class, @object)";

    // A batch's pair rows (some 40 per UCI order line) are summed and sorted in memory rather than spilled to disk.
    private const string RaiseWorkMemory = "set local work_mem = '64MB'";

    private const string CreateWorkTable =
        """
        create temp table taken (basket_key text collate "C", product_id text collate "C", paired boolean) on commit drop
        """;

    // Oldest first, so that under sustained load no item waits behind newer ones. Its row count is the batch size.
    private const string TakeBatch =
        """
        with taken_from_queue as (
            delete from co_purchase_queue
            where id in (select id from co_purchase_queue order by id limit @limit)
            returning basket_key, product_id, paired)
        insert into taken select basket_key, product_id, paired from taken_from_queue
        """;

    // Real row counts and distinct baskets, so that against large tables the planner reads only the touched baskets
    // through the primary key instead of hashing all of basket_items.
    private const string AnalyzeBatch = "analyze taken";

    // The items counted so far in each touched basket, plus the taken ones; items still queued (not taken, or queued
    // by a writer that committed after the batch was taken) are left for the batch that takes them. (An anti-join:
    // NOT EXISTS under OR would hash the whole queue.) Every ordered pair with at least one taken side is then new
    // and counts once. Increments are summed per pair and written in key order, so the upsert touches each counter
    // once and locks counters in one order.
    private const string CountPairs =
        """
        with items as (
            select b.basket_key, b.product_id, t.product_id is not null as is_taken
            from (select distinct basket_key from taken) touched
            join basket_items b on b.basket_key = touched.basket_key
            left join taken t on t.basket_key = b.basket_key and t.product_id = b.product_id
            left join co_purchase_queue q on q.basket_key = b.basket_key and q.product_id = b.product_id
            where b.paired and (t.product_id is not null or q.id is null))
        insert into co_purchases (product_id, neighbour_id, count)
        select x.product_id, y.product_id, count(*)
        from items x
        join items y on y.basket_key = x.basket_key and y.product_id <> x.product_id
        where x.is_taken or y.is_taken
        group by x.product_id, y.product_id
        order by x.product_id, y.product_id
        on conflict (product_id, neighbour_id) do update set count = co_purchases.count + excluded.count
        """;

    // Last, so that product_stats rows (which writers update for popularity) stay locked only until the commit.
    private const string CountBaskets =
        """
        insert into product_stats (product_id, baskets)
        select product_id, count(*) from taken
        group by product_id
        order by product_id
        on conflict (product_id) do update set baskets = product_stats.baskets + excluded.baskets
        """;

    // Both ends of the queue through its primary key, whatever its length: the oldest item's age is how late the counts
    // are, the newest one's how recently a writer queued, and the id span how many items wait (ids only grow).
    private const string MeasureQueue =
        """
        select coalesce(extract(epoch from now() - (select queued_at from co_purchase_queue order by id limit 1)), 0)::float8,
               coalesce(extract(epoch from now() - (select queued_at from co_purchase_queue order by id desc limit 1)), 0)::float8,
               coalesce((select max(id) from co_purchase_queue) - (select min(id) from co_purchase_queue) + 1, 0)
        """;
    private static readonly Meter Meter = new("Recommend.Postgres");
    private static double _lagSeconds;

    static CoPurchaseUpdater() =>
        Meter.CreateObservableGauge("recommend.copurchase.ingest_lag", () => Volatile.Read(ref _lagSeconds), "s",
            "Age of the oldest purchase not yet counted into co-purchase pairs");

    private readonly CoPurchaseUpdaterOptions _options = options ?? new CoPurchaseUpdaterOptions();
    private readonly ILogger _logger = logger ?? NullLogger<CoPurchaseUpdater>.Instance;

    /// <summary>
    /// Applies queued items until <paramref name="ct"/> is cancelled: batch after batch while the queue is full,
    /// otherwise polling every <see cref="CoPurchaseUpdaterOptions.PollInterval"/>. While a bulk import is under way
    /// (see <see cref="QueueState.YieldsTo"/>) it waits instead, so the import's commits are not slowed by counting
    /// that can run after it. Database errors are logged and retried after
    /// <see cref="CoPurchaseUpdaterOptions.ErrorDelay"/>; the failed batch was rolled back whole. Meant to be run by
    /// the host as a background service.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var pause = _options.PollInterval;
                try
                {
                    var queue = await MeasureQueueAsync(ct);
                    Volatile.Write(ref _lagSeconds, queue.OldestAge.TotalSeconds);
                    if (queue.Backlog > 0 && !queue.YieldsTo(_options))
                        pause = await ProcessPendingAsync(ct) < _options.BatchSize ? _options.PollInterval : TimeSpan.Zero;
                }
                catch (NpgsqlException e) when (!ct.IsCancellationRequested)
                {
                    _logger.LogError(e, "Co-purchase update failed; retrying in {Delay}", _options.ErrorDelay);
                    pause = _options.ErrorDelay;
                }
                if (pause > TimeSpan.Zero) await Task.Delay(pause, ct);
            }
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is (OperationCanceledException or NpgsqlException))
        {
            // Stopping: the batch in flight, if any, was rolled back and stays queued for the next run.
        }
    }

    /// <summary>Applies batches until the queue is empty; returns how many items that took.</summary>
    public async Task<int> DrainAsync(CancellationToken ct = default)
    {
        var total = 0;
        for (int applied; (applied = await ProcessPendingAsync(ct)) > 0;) total += applied;
        return total;
    }

    /// <summary>How late the counts are, how recently a writer queued, and how many items wait (from the id span).</summary>
    public async Task<QueueState> MeasureQueueAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(MeasureQueue);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new QueueState(TimeSpan.FromSeconds(reader.GetDouble(0)), TimeSpan.FromSeconds(reader.GetDouble(1)), reader.GetInt64(2));
    }

    /// <summary>
    /// Applies one batch of up to <see cref="CoPurchaseUpdaterOptions.BatchSize"/> queued items, oldest first, in
    /// one transaction; returns how many it applied (0 when nothing was queued). Waits while another updater
    /// applies a batch, so 0 means the queue was empty, not that someone else was busy.
    /// </summary>
    public async Task<int> ProcessPendingAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // Separate statements: each takes a fresh snapshot under READ COMMITTED, so the queue is read only after the
        // lock is held and sees every batch the previous holder committed.
        var take = new NpgsqlBatchCommand(TakeBatch) { Parameters = { new("limit", _options.BatchSize) } };
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(LockUpdater)
                {
                    Parameters = { new("class", AdvisoryLocks.Class), new("object", AdvisoryLocks.CoPurchaseUpdater) },
                },
                new NpgsqlBatchCommand(RaiseWorkMemory),
                new NpgsqlBatchCommand(CreateWorkTable),
                take,
                new NpgsqlBatchCommand(AnalyzeBatch),
                new NpgsqlBatchCommand(CountPairs),
                new NpgsqlBatchCommand(CountBaskets),
            },
        };
        await batch.ExecuteNonQueryAsync(ct);
        var applied = take.RecordsAffected;

        await transaction.CommitAsync(ct);
        return applied;
    }
}

/// <param name="OldestAge">Age of the oldest queued item: how late the counts are (zero when nothing is queued).</param>
/// <param name="NewestAge">Age of the newest queued item: how recently a writer queued one.</param>
/// <param name="Backlog">Items queued, counted by their id span (ids are never reused, so it is an upper bound).</param>
public sealed record QueueState(TimeSpan OldestAge, TimeSpan NewestAge, long Backlog)
{
    /// <summary>
    /// A bulk import is under way — more than <see cref="CoPurchaseUpdaterOptions.BulkBacklog"/> items wait and writers
    /// queued one within <see cref="CoPurchaseUpdaterOptions.WritesPaused"/> — and the counts are not yet
    /// <see cref="CoPurchaseUpdaterOptions.MaxLag"/> late. A storefront's checkouts never build such a backlog, so
    /// their purchases still reach the counts within a poll.
    /// </summary>
    public bool YieldsTo(CoPurchaseUpdaterOptions options) =>
        Backlog > options.BulkBacklog && NewestAge < options.WritesPaused && OldestAge < options.MaxLag;
}

/// <summary>Tuning for <see cref="CoPurchaseUpdater"/>.</summary>
public sealed record CoPurchaseUpdaterOptions
{
    /// <summary>
    /// Most queued basket items applied in one transaction. Larger batches sum more increments per counter before
    /// writing it; smaller ones keep each transaction, and so the freshness of counts under load, short.
    /// </summary>
    public int BatchSize { get; init; } = 5_000;

    /// <summary>How often an idle updater looks for new items: bounds how late a purchase reaches the counts.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Pause after a failed batch (e.g. the database unreachable) before trying again.</summary>
    public TimeSpan ErrorDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Queued items beyond which a backlog is a bulk import's, not a storefront's.</summary>
    public long BulkBacklog { get; init; } = 20_000;

    /// <summary>Writes this long apart end an import: the updater then counts what it queued.</summary>
    public TimeSpan WritesPaused { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How late the counts may fall before the updater stops waiting for an import to pause.</summary>
    public TimeSpan MaxLag { get; init; } = TimeSpan.FromSeconds(30);
}
