using System.Diagnostics;
using Npgsql;
using Recommend.Core.History;
using Recommend.Testing.Postgres;

namespace Recommend.Postgres.Tests;

/// <summary>
/// The durable background step that counts co-purchases: freshness while it runs, exactly-once counting across
/// batches, crashes and competing replicas.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CoPurchaseUpdaterTests(PostgresCluster cluster)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset Noon = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task With_the_updater_running_a_purchase_reaches_the_co_purchase_counts_within_a_second()
    {
        await using var store = await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), None);
        using var stop = new CancellationTokenSource();
        var running = store.CreateCoPurchaseUpdater().RunAsync(stop.Token);

        // The first order warms the connection pool and the JIT; the second one is timed.
        await store.RecordEventsAsync(Order("o1", "a", "b"), None);
        await WaitForPairAsync(store, "a", "b", TimeSpan.FromSeconds(30));
        await store.RecordEventsAsync(Order("o2", "c", "d"), None);
        var sinceCommit = Stopwatch.StartNew();
        await WaitForPairAsync(store, "c", "d", TimeSpan.FromSeconds(1));
        sinceCommit.Stop();

        await stop.CancelAsync();
        await running; // stops quietly
        Assert.True(sinceCommit.Elapsed < TimeSpan.FromSeconds(1), $"visible after {sinceCommit.Elapsed}");
    }

    [Fact]
    public async Task Queued_items_count_once_applied_even_when_a_basket_is_split_across_batches()
    {
        await using var store = await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), None);
        var updater = store.CreateCoPurchaseUpdater(new CoPurchaseUpdaterOptions { BatchSize = 3 });
        UserEvent[] first = [.. Order("o1", "a", "b", "c", "d", "e"), .. Order("o2", "a", "b")];
        UserEvent[] later = Order("o1", "f", "g", "a"); // a is already in o1: only f and g are new

        await store.RecordEventsAsync(first, None);
        Assert.Empty(await store.GetCoPurchasesAsync(["a"], 10, None));
        // Oldest first, three at a time: o1's a b c; then o1's d e and o2's a; then o2's b and o1's later f g.
        Assert.Equal(3, await updater.ProcessPendingAsync(None));
        await store.RecordEventsAsync(later, None);
        int[] applied = [await updater.ProcessPendingAsync(None), await updater.ProcessPendingAsync(None), await updater.ProcessPendingAsync(None)];
        Assert.Equal([3, 3, 0], applied);

        await AssertCountsAsync(store, [.. first, .. later]);
    }

    public enum Crash { Cancelled, ConnectionKilled }

    [Theory]
    [InlineData(Crash.Cancelled)]
    [InlineData(Crash.ConnectionKilled)]
    public async Task A_batch_that_dies_midway_counts_nothing_and_the_next_run_counts_every_item_once(Crash crash)
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        await using var store = await PostgresStore.OpenAsync(connectionString, None);
        UserEvent[] events = [.. Order("o1", "a", "b", "c"), .. Order("o2", "a", "c"), .. Order("o3", "b", "d")];
        await store.RecordEventsAsync(events, None);

        // Another session holds product a's statistics row, so the batch stops at its last step, after taking its
        // items off the queue and adding their pair counts.
        await using var blocker = new NpgsqlConnection(connectionString);
        await blocker.OpenAsync();
        await using var blockingTransaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("select 1 from product_stats where product_id = 'a' for update", blocker, blockingTransaction))
            await lockRow.ExecuteNonQueryAsync();

        using var cancellation = new CancellationTokenSource();
        var processing = store.CreateCoPurchaseUpdater().ProcessPendingAsync(cancellation.Token);
        await SessionLocks.WaitUntilASessionWaitsForALockAsync(blocker);
        if (crash == Crash.Cancelled)
        {
            await cancellation.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => processing);
        }
        else
        {
            await using (var kill = new NpgsqlCommand(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
                blocker, blockingTransaction))
                await kill.ExecuteNonQueryAsync();
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => processing);
        }
        await blockingTransaction.RollbackAsync();

        Assert.Empty(await store.GetCoPurchasesAsync(["a", "b", "c", "d"], 10, None));
        Assert.Equal(events.Length, await store.CreateCoPurchaseUpdater().DrainAsync());
        await AssertCountsAsync(store, events);
    }

    [Fact]
    public async Task Two_updaters_racing_over_concurrent_ingest_count_every_pair_exactly_once()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        await using var store = await PostgresStore.OpenAsync(connectionString, None);
        var random = new Random(42);
        var products = Enumerable.Range(0, 30).Select(i => $"p{i:D2}").ToArray();
        var events = Enumerable.Range(0, 150)
            .SelectMany(order => random.GetItems(products, random.Next(2, 10))
                .Select((product, line) => Purchase($"o{order}-l{line}", product, $"o{order}")))
            .ToArray();
        random.Shuffle(events); // an order's lines arrive in different batches, from different writers

        // Two replicas, each with its own pool, applying small batches as fast as they can while four writers ingest
        // (every batch sent twice, as a client retrying after a lost acknowledgement would).
        await using var replicaA = NpgsqlDataSource.Create(connectionString);
        await using var replicaB = NpgsqlDataSource.Create(connectionString);
        var options = new CoPurchaseUpdaterOptions { BatchSize = 25 };
        var ingesting = Task.WhenAll(events.Chunk((events.Length + 3) / 4).Select(share => Task.Run(async () =>
        {
            foreach (var batch in share.Chunk(9))
            {
                await store.RecordEventsAsync(batch, None);
                await store.RecordEventsAsync(batch, None);
            }
        })));
        var applied = await Task.WhenAll(
            ApplyUntilDoneAsync(new CoPurchaseUpdater(replicaA, options), ingesting),
            ApplyUntilDoneAsync(new CoPurchaseUpdater(replicaB, options), ingesting));

        Assert.All(applied, count => Assert.True(count > 0, "both updaters took part"));
        Assert.Equal(events.DistinctBy(e => (e.BasketKey, e.ProductId)).Count(), applied.Sum());
        await AssertCountsAsync(store, events);
    }

    [Fact]
    public async Task During_a_bulk_import_the_updater_waits_and_counts_everything_once_the_writes_pause()
    {
        await using var store = await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), None);
        // A backlog of more than 10 items with writes under 2 s apart is an import here.
        var options = new CoPurchaseUpdaterOptions { BulkBacklog = 10, WritesPaused = TimeSpan.FromSeconds(2), PollInterval = TimeSpan.FromMilliseconds(20) };
        using var stop = new CancellationTokenSource();
        UserEvent[] bulk = [.. Enumerable.Range(0, 6).SelectMany(o => Order($"bulk{o}", "a", "b", "c", "d"))];
        await store.RecordEventsAsync(bulk, None);
        var running = store.CreateCoPurchaseUpdater(options).RunAsync(stop.Token);

        // The import goes on: one more order every 100 ms for a second.
        var written = new List<UserEvent>(bulk);
        for (var order = 0; order < 10; order++)
        {
            var next = Order($"more{order}", "e", "f");
            await store.RecordEventsAsync(next, None);
            written.AddRange(next);
            await Task.Delay(100);
        }
        var whileImporting = await store.GetCoPurchasesAsync(["a"], 10, None);
        await WaitForPairAsync(store, "e", "f", TimeSpan.FromSeconds(30));

        await stop.CancelAsync();
        await running;
        Assert.Empty(whileImporting);
        await AssertCountsAsync(store, written);
    }

    [Fact]
    public async Task An_import_that_goes_on_past_the_lag_bound_shares_the_database_with_the_updater()
    {
        await using var store = await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), None);
        var options = new CoPurchaseUpdaterOptions
        {
            BulkBacklog = 10, WritesPaused = TimeSpan.FromSeconds(2), MaxLag = TimeSpan.FromSeconds(1), PollInterval = TimeSpan.FromMilliseconds(20),
        };
        using var stop = new CancellationTokenSource();
        await store.RecordEventsAsync([.. Enumerable.Range(0, 6).SelectMany(o => Order($"bulk{o}", "a", "b", "c", "d"))], None);
        var running = store.CreateCoPurchaseUpdater(options).RunAsync(stop.Token);

        // Writes never pause; the first orders are counted anyway once they are a second late.
        var clock = Stopwatch.StartNew();
        var order = 0;
        while (!(await store.GetCoPurchasesAsync(["a"], 10, None)).Any())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the bulk orders were never counted while writes went on");
            await store.RecordEventsAsync(Order($"more{order++}", "e", "f"), None);
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await running;
    }

    [Theory]
    [InlineData(25, 0.1, 5, true)]    // a bulk backlog, a writer active, counts fresh: wait
    [InlineData(5, 0.1, 5, false)]    // a storefront's few items: count now
    [InlineData(25, 3, 5, false)]     // the writes paused: count
    [InlineData(25, 0.1, 40, false)]  // the counts are too late: count between the import's batches
    public void The_updater_yields_only_to_an_import_whose_backlog_is_still_fresh(long backlog, double newestSeconds, double oldestSeconds, bool yields)
    {
        var options = new CoPurchaseUpdaterOptions { BulkBacklog = 20, WritesPaused = TimeSpan.FromSeconds(1), MaxLag = TimeSpan.FromSeconds(30) };

        var queue = new QueueState(TimeSpan.FromSeconds(oldestSeconds), TimeSpan.FromSeconds(newestSeconds), backlog);

        Assert.Equal(yields, queue.YieldsTo(options));
    }

    /// <summary>Applies batches until ingest has finished and a batch finds the queue empty; returns the items applied.</summary>
    private static async Task<int> ApplyUntilDoneAsync(CoPurchaseUpdater updater, Task ingesting)
    {
        await Task.Yield();
        var total = 0;
        while (true)
        {
            var ingestDone = ingesting.IsCompleted;
            var applied = await updater.ProcessPendingAsync(None);
            total += applied;
            if (applied == 0 && ingestDone) return total;
        }
    }

    private static async Task WaitForPairAsync(PostgresStore store, string product, string neighbour, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!(await store.GetCoPurchasesAsync([product], 10, None)).Any(p => p.ProductId == neighbour))
        {
            Assert.True(deadline.Elapsed < timeout, $"{product}+{neighbour} not counted within {timeout}");
            await Task.Delay(10);
        }
    }

    /// <summary>Every ordered pair's count and both basket totals, against a count from scratch over the events.</summary>
    private static async Task AssertCountsAsync(PostgresStore store, IReadOnlyList<UserEvent> events)
    {
        var baskets = events.GroupBy(e => e.BasketKey).Select(b => b.Select(e => e.ProductId).ToHashSet()).ToList();
        var basketsPerProduct = baskets.SelectMany(b => b).CountBy(p => p).ToDictionary();
        var expected = baskets
            .SelectMany(b => b.SelectMany(x => b.Where(y => y != x).Select(y => (x, y))))
            .CountBy(pair => pair)
            .Select(c => new CoPurchase(c.Key.x, c.Key.y, c.Value, basketsPerProduct[c.Key.x], basketsPerProduct[c.Key.y]))
            .OrderBy(p => p.SourceProductId, StringComparer.Ordinal).ThenBy(p => p.ProductId, StringComparer.Ordinal);

        var actual = await store.GetCoPurchasesAsync(basketsPerProduct.Keys.ToList(), basketsPerProduct.Count, None);

        Assert.Equal(expected, actual.OrderBy(p => p.SourceProductId, StringComparer.Ordinal).ThenBy(p => p.ProductId, StringComparer.Ordinal));
    }

    private static UserEvent[] Order(string order, params string[] products) =>
        products.Select(product => Purchase($"{order}-{product}", product, order)).ToArray();

    private static UserEvent Purchase(string eventId, string product, string order) =>
        new(eventId, EventType.Purchase, "u1", product, 1, 2.5, Noon, null, order);
}
