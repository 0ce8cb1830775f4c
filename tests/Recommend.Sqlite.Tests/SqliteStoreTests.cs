using System.Collections;
using Microsoft.Data.Sqlite;
using Recommend.Core.Catalog;
using Recommend.Core.Errors;
using Recommend.Core.History;
using Recommend.Indexing.Jobs;

namespace Recommend.Sqlite.Tests;

/// <summary>Behaviour particular to the SQLite store: schema migrations, journal mode, rollback, cross-process writers.</summary>
public sealed class SqliteStoreTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset Noon = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDatabase _database = new();

    [Fact]
    public async Task Reopening_applies_no_migration_twice_and_keeps_the_data()
    {
        await using (var store = SqliteStore.Open(_database.Path))
            await store.UpsertProductsAsync([Item("p1")], None);
        var schemaAfterFirstOpen = ReadSchema();

        for (var reopen = 0; reopen < 2; reopen++)
        {
            await using var store = SqliteStore.Open(_database.Path);
            Assert.Equal(1, await store.CountProductsAsync(None));
        }

        Assert.Equal(SchemaMigrations.LatestVersion, ReadPragma("user_version"));
        Assert.Equal(schemaAfterFirstOpen, ReadSchema());
    }

    [Fact]
    public async Task A_database_from_a_newer_schema_is_refused()
    {
        await using (SqliteStore.Open(_database.Path)) { }
        Execute($"PRAGMA user_version = {SchemaMigrations.LatestVersion + 1}");

        var error = Assert.Throws<InvalidOperationException>(() => SqliteStore.Open(_database.Path));
        Assert.Contains("newer", error.Message);
    }

    [Fact]
    public async Task The_database_uses_a_write_ahead_log()
    {
        await using (SqliteStore.Open(_database.Path)) { }

        Assert.Equal("wal", ReadPragma<string>("journal_mode"));
    }

    [Fact]
    public async Task A_batch_with_an_invalid_event_applies_nothing()
    {
        await using var store = SqliteStore.Open(_database.Path);
        UserEvent[] valid = [Purchase("e1", "a", "o1"), Purchase("e2", "b", "o1")];
        // The schema only admits known event types; this row fails after the valid ones were written.
        var invalid = Purchase("e3", "c", "o1") with { Type = (EventType)99 };

        await Assert.ThrowsAsync<SqliteException>(() => store.RecordEventsAsync([.. valid, invalid], None));

        await AssertNoHistoryAsync(store);
        Assert.Equal(new RecordResult(2, 0), await store.RecordEventsAsync(valid, None));
    }

    [Fact]
    public async Task A_batch_cancelled_midway_applies_nothing()
    {
        await using var store = SqliteStore.Open(_database.Path);
        var events = Enumerable.Range(0, 10).Select(i => Purchase($"e{i}", $"p{i}", "o1")).ToList();
        using var cancellation = new CancellationTokenSource();
        var cancelAtSixth = new CancelOnRead<UserEvent>(events, index: 5, cancellation);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.RecordEventsAsync(cancelAtSixth, cancellation.Token));

        await AssertNoHistoryAsync(store);
        Assert.Equal(new RecordResult(10, 0), await store.RecordEventsAsync(events, None));
    }

    [Fact]
    public async Task An_upsert_batch_with_an_invalid_product_applies_nothing()
    {
        await using var store = SqliteStore.Open(_database.Path);
        await store.UpsertProductsAsync([Item("kept", "before")], None);

        // The driver refuses to bind NaN, after the first two rows were written.
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.UpsertProductsAsync([Item("kept", "after"), Item("new"), Item("broken") with { Price = double.NaN }], None));

        Assert.Equal("before", (await store.GetProductsAsync(["kept"], None))["kept"].Title);
        Assert.Equal(1, await store.CountProductsAsync(None));
    }

    [Fact]
    public async Task Two_stores_on_one_file_serialise_their_writes()
    {
        // As two processes would: separate writer connections, coordinated only by SQLite's file lock.
        await using var first = SqliteStore.Open(_database.Path);
        await using var second = SqliteStore.Open(_database.Path);
        var events = Enumerable.Range(0, 400).Select(i => Purchase($"e{i}", $"p{i % 10}", $"o{i / 10}")).ToList();

        var results = await Task.WhenAll(
            Task.Run(() => RecordInBatchesAsync(first, events)),
            Task.Run(() => RecordInBatchesAsync(second, events.AsEnumerable().Reverse().ToList())));

        Assert.Equal(events.Count, results.Sum(r => r.Accepted));
        Assert.Equal(events.Count, results.Sum(r => r.Duplicates));
        // 40 orders of the same ten products: every pair was bought together in every order.
        var pairs = await first.GetCoPurchasesAsync(["p0"], 20, None);
        Assert.Equal(9, pairs.Count);
        Assert.All(pairs, pair => Assert.Equal((40L, 40L, 40L), (pair.Count, pair.SourceBaskets, pair.NeighbourBaskets)));
    }

    [Fact]
    public async Task A_database_from_before_shard_times_keeps_its_sharded_job_and_records_times_after_migrating()
    {
        using (var connection = OpenDirect()) SchemaMigrations.Apply(connection, upTo: 4);
        Execute("""
            INSERT INTO reindex_jobs (id, mode, source, model_id, dimension, max_bad_rows, state, phase, total, processed, embedded,
                cached, deleted, bad_rows, created_at, shard_count)
            VALUES ('rj-old', 1, 'store', 'm', 64, 0, 2, 0, 10, 3, 3, 0, 0, 0, 1700000000000, 2);
            INSERT INTO reindex_shards (job_id, shard_index, state, checkpoint, processed, embedded, owner, lease_expires_at)
            VALUES ('rj-old', 0, 2, 'p3', 3, 3, 'worker-a', 1700000030000), ('rj-old', 1, 1, NULL, 0, 0, NULL, NULL);
            """);

        await using var store = SqliteStore.Open(_database.Path);

        var shards = await store.GetShardsAsync("rj-old", None);
        Assert.Equal((ReindexState.Running, "p3", 3L, "worker-a", (DateTimeOffset?)null),
            (shards[0].Run.State, shards[0].Run.Checkpoint, shards[0].Run.Counters.Processed, shards[0].Run.Owner, shards[0].Run.StartedAt));
        var startedAt = DateTimeOffset.FromUnixTimeMilliseconds(1700000031000);
        Assert.True(await store.SaveRunAsync(shards[0].Unit, shards[0].Run with { StartedAt = startedAt }, null, None));
        Assert.Equal(startedAt, (await store.GetShardsAsync("rj-old", None))[0].Run.StartedAt);
        Assert.Equal(SchemaMigrations.LatestVersion, ReadPragma("user_version"));
    }

    [Fact]
    public async Task A_database_from_before_the_purchase_total_starts_it_from_the_purchases_already_stored()
    {
        // Version 9: the schema before script 10 added the purchase total.
        using (var connection = OpenDirect()) SchemaMigrations.Apply(connection, upTo: 9);
        Execute("""
            INSERT INTO events (event_id, type, user_id, product_id, quantity, price, occurred_at) VALUES
                ('e1', 4, 'u', 'p', 1, 1, 0), ('e2', 4, 'u', 'q', 1, 1, 0), ('e3', 1, 'u', 'p', 1, 1, 0);
            """);

        await using var store = SqliteStore.Open(_database.Path);
        await store.RecordEventsAsync([new UserEvent("e4", EventType.Purchase, "u", "r", 1, 1, DateTimeOffset.UnixEpoch, null, "o")], None);

        Assert.Equal(3, await store.CountPurchasesAsync(None));
    }

    [Fact]
    public async Task A_closed_store_answers_unavailable_rather_than_a_disposed_object()
    {
        var store = SqliteStore.Open(_database.Path);
        await store.DisposeAsync();

        Assert.Equal("store", (await Assert.ThrowsAsync<DependencyUnavailableException>(() => store.CountProductsAsync(None))).Dependency);
        await Assert.ThrowsAsync<DependencyUnavailableException>(() => store.UpsertProductsAsync([Item("p1")], None));
        await Assert.ThrowsAsync<DependencyUnavailableException>(() => store.PingAsync(None));
        Assert.False(store.IsReady);
    }

    private static async Task<RecordResult> RecordInBatchesAsync(SqliteStore store, IReadOnlyList<UserEvent> events)
    {
        var accepted = 0;
        var duplicates = 0;
        foreach (var batch in events.Chunk(25))
        {
            var result = await store.RecordEventsAsync(batch, None);
            accepted += result.Accepted;
            duplicates += result.Duplicates;
        }
        return new RecordResult(accepted, duplicates);
    }

    private static async Task AssertNoHistoryAsync(SqliteStore store)
    {
        Assert.Empty(await store.GetRecentInteractionsAsync("u1", 100, None));
        Assert.Empty(await store.GetTrendingAsync(null, 100, None));
        Assert.Empty(await store.GetCoPurchasesAsync(["a", "b", "p0", "p1"], 100, None));
    }

    [Fact]
    public async Task A_storefront_sized_batch_is_in_the_co_purchase_counts_when_it_is_acknowledged()
    {
        await using var store = SqliteStore.Open(_database.Path);
        await store.RecordEventsAsync([Purchase("e1", "a", "o1"), Purchase("e2", "b", "o1")], None);

        Assert.Null(await store.CoPurchaseLagAsync(None));
        Assert.Equal(["b"], (await store.GetCoPurchasesAsync(["a"], 10, None)).Select(p => p.ProductId));
    }

    [Fact]
    public async Task Pairs_queued_by_a_bulk_batch_survive_a_restart_and_count_exactly_once()
    {
        var bulk = BulkBaskets(baskets: 400, size: 4);
        await using (var store = SqliteStore.Open(_database.Path))
        {
            await store.RecordEventsAsync(bulk, None);
            // Acknowledged, stored, in the basket totals; the pairs are queued, and half of them counted before the "crash".
            Assert.NotNull(await store.CoPurchaseLagAsync(None));
            Assert.Equal(800, await store.CountQueuedPairsAsync(800, None));
        }

        await using var reopened = SqliteStore.Open(_database.Path);
        await reopened.SettleCoPurchasesAsync(None);
        Assert.Null(await reopened.CoPurchaseLagAsync(None));
        // Every basket is b0 b1 b2 b3 of its own order: each ordered pair once per basket, each product in 400 baskets.
        var pairs = await reopened.GetCoPurchasesAsync(["b0"], 10, None);
        Assert.Equal([("b1", 400L, 400L, 400L), ("b2", 400L, 400L, 400L), ("b3", 400L, 400L, 400L)],
            pairs.Select(p => (p.ProductId, p.Count, p.SourceBaskets, p.NeighbourBaskets)).Order());
    }

    [Fact]
    public async Task The_host_counts_queued_pairs_once_writes_pause()
    {
        await using var store = SqliteStore.Open(_database.Path);
        using var counter = new CoPurchaseCounter(store, Microsoft.Extensions.Logging.Abstractions.NullLogger<CoPurchaseCounter>.Instance);
        await counter.StartAsync(None);
        await store.RecordEventsAsync(BulkBaskets(baskets: 300, size: 4), None);

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await store.CoPurchaseLagAsync(None) is not null && waited.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(50);
        await counter.StopAsync(None);

        Assert.Null(await store.CoPurchaseLagAsync(None));
        Assert.Equal(300, Assert.Single(await store.GetCoPurchasesAsync(["b0"], 1, None)).Count);
    }

    /// <summary>Orders of products b0…b(size−1), one order each: a batch past the inline limit.</summary>
    private static List<UserEvent> BulkBaskets(int baskets, int size)
    {
        var events = Enumerable.Range(0, baskets * size).Select(i => Purchase($"bulk-{i}", $"b{i % size}", $"order-{i / size}")).ToList();
        Assert.True(events.Count > SqliteStore.CountPairsInlineUpTo);
        return events;
    }

    private static UserEvent Purchase(string eventId, string product, string order) =>
        new(eventId, EventType.Purchase, "u1", product, 1, 9.99, Noon, null, order);

    private static Product Item(string id, string title = "Title") =>
        new(id, title, "", "general", 1, true, Product.NoAttributes);

    private List<string> ReadSchema()
    {
        using var connection = OpenDirect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT type || ' ' || name FROM sqlite_schema ORDER BY type, name";
        using var reader = command.ExecuteReader();
        var schema = new List<string>();
        while (reader.Read()) schema.Add(reader.GetString(0));
        return schema;
    }

    private long ReadPragma(string name) => ReadPragma<long>(name);

    private T ReadPragma<T>(string name)
    {
        using var connection = OpenDirect();
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name}";
        return (T)command.ExecuteScalar()!;
    }

    private void Execute(string sql)
    {
        using var connection = OpenDirect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteConnection OpenDirect()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database.Path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public void Dispose() => _database.Dispose();

    /// <summary>A list that cancels <paramref name="cancellation"/> when element <paramref name="index"/> is read: a cancellation mid-batch.</summary>
    private sealed class CancelOnRead<T>(IReadOnlyList<T> items, int index, CancellationTokenSource cancellation) : IReadOnlyList<T>
    {
        public T this[int i]
        {
            get
            {
                if (i == index) cancellation.Cancel();
                return items[i];
            }
        }

        public int Count => items.Count;

        public IEnumerator<T> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
