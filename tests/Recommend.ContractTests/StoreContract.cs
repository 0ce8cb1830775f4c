using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.History;
using Recommend.Core.Vectors;
using Xunit;
using static Recommend.ContractTests.StoreTestData;

namespace Recommend.ContractTests;

/// <summary>
/// The behaviour every catalog/history/embedding-cache store must show, exercised only through the ports.
/// Each test builds its own store over its own empty database, so tests are independent and may run in any order.
/// Ids are compared ordinally (byte order of UTF-8 for ASCII ids): backends must order ids that way
/// (e.g. Postgres <c>COLLATE "C"</c>), or paging and tie-breaks differ between stores.
/// </summary>
public abstract class StoreContract<TStore>
    where TStore : ICatalogStore, IHistoryStore, IEmbeddingCache, IContentHashLedger, IStoreReadiness, IAsyncDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>A store over a new, empty database of its own.</summary>
    protected abstract Task<TStore> CreateStoreAsync();

    /// <summary>
    /// Disposes <paramref name="store"/> and opens a new store over the same database, as a restarted process would.
    /// Tests dispose the original again afterwards: disposing twice must be harmless.
    /// </summary>
    protected abstract Task<TStore> ReopenAsync(TStore store);

    /// <summary>
    /// Returns once co-purchase counts reflect every event recorded so far; called before each co-purchase read that
    /// follows a write. Pairs a store counts after the commit (in a durable background step) are counted here.
    /// </summary>
    private static Task SettleAsync(TStore store) => store.SettleCoPurchasesAsync(None);

    // ---- catalog ----

    [Fact]
    public async Task Ping_answers_on_an_empty_catalog_and_on_a_full_one_and_after_a_restart()
    {
        var store = await CreateStoreAsync();
        await store.PingAsync(None);
        await store.UpsertProductsAsync(Enumerable.Range(0, 500).Select(i => CatalogItem($"p{i}")).ToList(), None);
        await store.PingAsync(None);

        await using var reopened = await ReopenAsync(store);
        await reopened.PingAsync(None);
        Assert.Equal(500, await reopened.CountProductsAsync(None));
        await store.DisposeAsync();
    }

    [Fact]
    public async Task Upserted_products_read_back_with_every_field_and_missing_ids_are_absent()
    {
        await using var store = await CreateStoreAsync();
        var mug = new Product("mug-1", "Enamel mug", "Blue enamel, 350 ml", "kitchen", 12.5, true,
            new Dictionary<string, string> { ["colour"] = "blue", ["size"] = "350 ml" });
        var lamp = new Product("85123A", "Lämpchen ☃ \"quoted\"", "", "lighting", 0.99, false, Product.NoAttributes);

        await store.UpsertProductsAsync([mug, lamp], None);
        var found = await store.GetProductsAsync(["mug-1", "85123A", "missing"], None);

        Assert.Equal(["85123A", "mug-1"], found.Keys.Order(StringComparer.Ordinal));
        AssertSameProduct(mug, found["mug-1"]);
        AssertSameProduct(lamp, found["85123A"]);
        Assert.Equal(2, await store.CountProductsAsync(None));
    }

    [Fact]
    public async Task Upsert_replaces_a_product_by_id_including_its_attributes()
    {
        await using var store = await CreateStoreAsync();
        await store.UpsertProductsAsync([new Product("p1", "Old", "old text", "a", 1, true,
            new Dictionary<string, string> { ["old"] = "1", ["kept?"] = "no" })], None);
        var replacement = new Product("p1", "New", "new text", "b", 2, false,
            new Dictionary<string, string> { ["new"] = "2" });

        await store.UpsertProductsAsync([replacement], None);

        AssertSameProduct(replacement, (await store.GetProductsAsync(["p1"], None))["p1"]);
        Assert.Equal(1, await store.CountProductsAsync(None));
    }

    [Fact]
    public async Task A_product_listed_twice_in_one_upsert_ends_as_its_last_version()
    {
        await using var store = await CreateStoreAsync();
        var last = CatalogItem("p1", title: "Second");

        await store.UpsertProductsAsync([CatalogItem("p1", title: "First"), CatalogItem("p2"), last], None);

        AssertSameProduct(last, (await store.GetProductsAsync(["p1"], None))["p1"]);
        Assert.Equal(2, await store.CountProductsAsync(None));
    }

    [Fact]
    public async Task Delete_returns_how_many_of_the_ids_existed_and_removes_them()
    {
        await using var store = await CreateStoreAsync();
        await store.UpsertProductsAsync([CatalogItem("a"), CatalogItem("b"), CatalogItem("c")], None);

        var deleted = await store.DeleteProductsAsync(["a", "c", "never-existed"], None);

        Assert.Equal(2, deleted);
        Assert.Equal(["b"], (await store.GetProductsAsync(["a", "b", "c"], None)).Keys);
        Assert.Equal(1, await store.CountProductsAsync(None));
        Assert.Equal(0, await store.DeleteProductsAsync(["a"], None));
    }

    [Fact]
    public async Task A_product_read_before_it_changed_or_was_deleted_reads_as_it_is_now()
    {
        await using var store = await CreateStoreAsync();
        await store.UpsertProductsAsync([CatalogItem("a", title: "Old"), CatalogItem("b"), CatalogItem("c")], None);
        Assert.Equal(3, (await store.GetProductsAsync(["a", "b", "c"], None)).Count);
        var replacement = CatalogItem("a", category: "moved", title: "New", price: 20);

        await store.UpsertProductsAsync([replacement], None);
        await store.DeleteProductsAsync(["b"], None);

        var now = await store.GetProductsAsync(["a", "b", "c"], None);
        Assert.Equal(["a", "c"], now.Keys.Order(StringComparer.Ordinal));
        AssertSameProduct(replacement, now["a"]);
    }

    [Fact]
    public async Task Thousands_of_ids_are_handled_in_one_call()
    {
        await using var store = await CreateStoreAsync();
        var ids = Enumerable.Range(0, 40_000).Select(i => $"p{i:D5}").ToList();
        await store.UpsertProductsAsync(ids.Select(id => CatalogItem(id)).ToList(), None);

        var found = await store.GetProductsAsync([.. ids, "x-missing-1", "x-missing-2"], None);
        var deleted = await store.DeleteProductsAsync(ids.Take(35_000).ToList(), None);

        Assert.Equal(ids.Count, found.Count);
        Assert.Equal(35_000, deleted);
        Assert.Equal(5_000, await store.CountProductsAsync(None));
    }

    [Fact]
    public async Task Scan_streams_every_product_once_in_ordinal_id_order()
    {
        await using var store = await CreateStoreAsync();
        // Enough rows to span several pages of any sensible page size, plus ids whose ordinal and
        // linguistic orders differ (digits, upper before lower case, punctuation).
        var ids = Enumerable.Range(0, 2_345).Select(i => $"sku-{i * 7919 % 10_007}")
            .Concat(["10", "9", "A1", "B", "a", "a-b", "a_b", "ab", "Zz"])
            .ToList();
        var shuffled = ids.ToArray();
        new Random(7).Shuffle(shuffled);
        foreach (var chunk in shuffled.Chunk(1_000))
            await store.UpsertProductsAsync(chunk.Select(id => CatalogItem(id)).ToList(), None);

        var scanned = new List<string>();
        await foreach (var product in store.ScanProductsAsync(None)) scanned.Add(product.Id);

        Assert.Equal(ids.Order(StringComparer.Ordinal), scanned);
    }

    [Fact]
    public async Task Empty_requests_change_nothing_and_return_empty_results()
    {
        await using var store = await CreateStoreAsync();

        await store.UpsertProductsAsync([], None);
        Assert.Equal(0, await store.DeleteProductsAsync([], None));
        Assert.Empty(await store.GetProductsAsync([], None));
        Assert.Equal(default, await store.RecordEventsAsync([], None));
        Assert.Empty(await store.GetCoPurchasesAsync([], 10, None));
        Assert.Empty(await store.GetEmbeddingsAsync(new IndexSpec("m", 2), [], None));
        await store.PutEmbeddingsAsync(new IndexSpec("m", 2), [], None);
        Assert.Equal(0, await store.CountProductsAsync(None));
        Assert.Empty(await store.GetTrendingAsync(null, 10, None));
    }

    // ---- events: idempotency ----

    [Fact]
    public async Task An_event_id_is_stored_once_within_a_batch_and_across_batches()
    {
        await using var store = await CreateStoreAsync();
        var first = Purchase("e1", "u1", "a", Noon, "o1");
        var second = Purchase("e2", "u1", "b", Noon, "o1");
        var third = Interaction("e3", EventType.View, "u1", "a", Noon.AddMinutes(5));

        var batch1 = await store.RecordEventsAsync([first, second, first], None);
        var batch2 = await store.RecordEventsAsync([second, third, second with { ProductId = "changed" }], None);

        Assert.Equal(new RecordResult(2, 1), batch1);
        Assert.Equal(new RecordResult(1, 2), batch2);
        var interactions = await store.GetRecentInteractionsAsync("u1", 10, None);
        Assert.Equal(
            [new Interaction("a", EventType.View, third.OccurredAt, 1),
             new Interaction("a", EventType.Purchase, Noon, 1),
             new Interaction("b", EventType.Purchase, Noon, 1)],
            interactions.OrderByDescending(i => i.OccurredAt).ThenBy(i => i.ProductId, StringComparer.Ordinal));
        await SettleAsync(store);
        var pair = Assert.Single(await store.GetCoPurchasesAsync(["a"], 10, None));
        Assert.Equal(new CoPurchase("a", "b", 1, 1, 1), pair);
        var trendingA = (await store.GetTrendingAsync(null, 10, None)).Single(t => t.ProductId == "a");
        Assert.Equal(ExpectedKey([first, third]), trendingA.LogScore, 9);
    }

    [Fact]
    public async Task Concurrent_overlapping_batches_store_each_event_once_and_keep_pair_counts_exact()
    {
        await using var store = await CreateStoreAsync();
        var random = new Random(20240301);
        var products = Enumerable.Range(0, 25).Select(i => $"p{i:D2}").ToArray();
        var events = new List<UserEvent>();
        for (var order = 0; order < 60; order++)
        {
            var user = $"u{order % 7}";
            var lines = random.GetItems(products, random.Next(2, 9)); // may repeat a product: a second order line
            for (var line = 0; line < lines.Length; line++)
            {
                var orderId = order % 5 == 0 ? null : $"o{order}"; // some baskets come from user + day instead
                events.Add(Purchase($"o{order}-l{line}", user, lines[line], Noon.AddDays(order % 3).AddMinutes(line), orderId));
            }
        }
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(events));

        // Six writers, each sending an overlapping window of the events in batches of 17.
        const int writers = 6;
        var window = events.Count / 2;
        var results = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var mine = Enumerable.Range(0, window).Select(i => events[(w * events.Count / writers + i) % events.Count]);
            var totals = new RecordResult(0, 0);
            foreach (var batch in mine.Chunk(17))
            {
                var r = await store.RecordEventsAsync(batch, None);
                totals = new RecordResult(totals.Accepted + r.Accepted, totals.Duplicates + r.Duplicates);
            }
            return totals;
        })));

        var coveredIds = Enumerable.Range(0, writers)
            .SelectMany(w => Enumerable.Range(0, window).Select(i => events[(w * events.Count / writers + i) % events.Count].EventId))
            .ToHashSet();
        Assert.Equal(coveredIds.Count, results.Sum(r => r.Accepted));
        Assert.Equal(writers * window - coveredIds.Count, results.Sum(r => r.Duplicates));
        var stored = events.Where(e => coveredIds.Contains(e.EventId)).ToList();
        var expected = ExpectedCoPurchases(stored);
        await SettleAsync(store);
        var actual = await store.GetCoPurchasesAsync(products, products.Length, None);
        Assert.Equal(expected.Count, actual.Count);
        Assert.All(actual, pair => Assert.Equal(expected[(pair.SourceProductId, pair.ProductId)], pair));
    }

    // ---- baskets and co-purchases ----

    [Fact]
    public async Task A_product_bought_twice_in_one_order_counts_once_per_pair_and_basket()
    {
        await using var store = await CreateStoreAsync();

        await store.RecordEventsAsync(
            [Purchase("e1", "u1", "a", Noon, "o1"), Purchase("e2", "u1", "b", Noon, "o1"),
             Purchase("e3", "u1", "a", Noon.AddMinutes(1), "o1", quantity: 4)], None);
        await store.RecordEventsAsync([Purchase("e4", "u1", "b", Noon.AddMinutes(2), "o1")], None);
        await SettleAsync(store);

        Assert.Equal([new CoPurchase("a", "b", 1, 1, 1), new CoPurchase("b", "a", 1, 1, 1)],
            await store.GetCoPurchasesAsync(["a", "b"], 10, None));
    }

    [Fact]
    public async Task Only_the_first_products_of_a_large_basket_pair_up_and_every_product_still_counts_its_basket()
    {
        await using var store = await CreateStoreAsync();
        var cap = UserEvent.PairedProductsPerBasket;
        var products = Enumerable.Range(0, cap + 10).Select(i => $"p{i:D3}").ToArray();

        // Two batches: the cap counts members already stored, and within a batch follows event order.
        var firstBatch = cap - 5;
        await store.RecordEventsAsync(products.Take(firstBatch).Select((p, i) => Purchase($"e{i}", "u1", p, Noon.AddSeconds(i), "big")).ToList(), None);
        await store.RecordEventsAsync(products.Skip(firstBatch).Select((p, i) => Purchase($"e{firstBatch + i}", "u1", p, Noon.AddSeconds(firstBatch + i), "big")).ToList(), None);
        await store.RecordEventsAsync([Purchase("late-1", "u2", products[^1], Noon, "small"), Purchase("late-2", "u2", "q", Noon, "small")], None);
        await SettleAsync(store);

        var first = await store.GetCoPurchasesAsync([products[0]], products.Length, None);
        Assert.Equal(products.Skip(1).Take(cap - 1), first.Select(p => p.ProductId));
        Assert.All(first, pair => Assert.Equal(1, pair.Count));
        // Beyond the cap: no pairs from the large basket, but its basket count includes it and its small basket pairs.
        var beyond = Assert.Single(await store.GetCoPurchasesAsync([products[^1]], products.Length, None));
        Assert.Equal(new CoPurchase(products[^1], "q", 1, 2, 1), beyond);
    }

    [Fact]
    public async Task A_bulk_batch_counts_the_same_pairs_as_storefront_sized_batches_even_when_they_share_baskets()
    {
        await using var store = await CreateStoreAsync();
        // The same baskets twice, under two id prefixes: once mostly in one bulk batch (whose pairs a store may count
        // after the commit) with small batches joining its baskets before and after it is counted, once all in small batches.
        var random = new Random(5);
        var baskets = Enumerable.Range(0, 300).Select(b => Enumerable.Range(0, random.Next(1, 12)).Select(_ => $"{random.Next(40):D2}").Distinct().ToArray()).ToArray();
        List<UserEvent> Events(string prefix, Func<int, int, bool> take) =>
            baskets.SelectMany((products, b) => products.Select((p, i) => (p, i)).Where(x => take(b, x.i))
                .Select(x => Purchase($"{prefix}-{b}-{x.i}", $"u{b % 50}", $"{prefix}-{x.p}", Noon.AddSeconds(b), $"{prefix}-o{b}"))).ToList();

        var bulk = Events("bulk", (_, i) => i < 8);
        Assert.True(bulk.Count > 1_000, $"{bulk.Count} events: not a bulk batch");
        await store.RecordEventsAsync(bulk, None);
        await store.RecordEventsAsync(Events("bulk", (b, i) => i >= 8 && b % 2 == 0), None);
        await SettleAsync(store);
        await store.RecordEventsAsync(Events("bulk", (b, i) => i >= 8 && b % 2 == 1), None);
        foreach (var chunk in Events("small", (_, _) => true).Chunk(100))
            await store.RecordEventsAsync(chunk, None);
        await SettleAsync(store);

        var ids = Enumerable.Range(0, 40).Select(i => $"{i:D2}").ToArray();
        var bulkPairs = await store.GetCoPurchasesAsync(ids.Select(i => $"bulk-{i}").ToList(), 100, None);
        var smallPairs = await store.GetCoPurchasesAsync(ids.Select(i => $"small-{i}").ToList(), 100, None);
        Assert.NotEmpty(smallPairs);
        Assert.Equal(
            smallPairs.Select(p => (p.SourceProductId[6..], p.ProductId[6..], p.Count, p.SourceBaskets, p.NeighbourBaskets)).Order(),
            bulkPairs.Select(p => (p.SourceProductId[5..], p.ProductId[5..], p.Count, p.SourceBaskets, p.NeighbourBaskets)).Order());
    }

    [Fact]
    public async Task Only_purchases_join_baskets()
    {
        await using var store = await CreateStoreAsync();

        await store.RecordEventsAsync(
            [Purchase("e1", "u1", "a", Noon, null),
             Interaction("e2", EventType.View, "u1", "b", Noon),
             Interaction("e3", EventType.AddToCart, "u1", "c", Noon),
             Interaction("e4", EventType.Click, "u1", "d", Noon)], None);

        await SettleAsync(store);
        Assert.Empty(await store.GetCoPurchasesAsync(["a", "b", "c", "d"], 10, None));
    }

    [Fact]
    public async Task Purchases_without_an_order_id_share_a_basket_per_user_and_utc_day()
    {
        await using var store = await CreateStoreAsync();
        var day = new DateTimeOffset(2024, 3, 1, 0, 10, 0, TimeSpan.Zero);

        await store.RecordEventsAsync(
        [
            Purchase("e1", "u1", "early", day, null),
            // 01:30 at UTC+2 is 23:30 UTC of the same day, though the local date is the next day.
            Purchase("e2", "u1", "late", new DateTimeOffset(2024, 3, 2, 1, 30, 0, TimeSpan.FromHours(2)), null),
            Purchase("e3", "u1", "next-day", day.AddDays(1), null),
            Purchase("e4", "u2", "other-user", day, null),
            Purchase("e5", "u1", "ordered", day, "o1"),
        ], None);

        await SettleAsync(store);
        Assert.Equal([new CoPurchase("early", "late", 1, 1, 1)], await store.GetCoPurchasesAsync(["early"], 10, None));
        Assert.Empty(await store.GetCoPurchasesAsync(["next-day", "other-user", "ordered"], 10, None));
    }

    [Fact]
    public async Task Neighbours_come_by_count_then_id_with_the_basket_totals_of_both_products()
    {
        await using var store = await CreateStoreAsync();
        string[][] baskets =
        [
            ["a", "b", "c"], ["a", "b", "d"], ["a", "b"], ["a", "d"], ["a", "c"], ["b", "c"], ["x", "y"],
        ];
        var events = baskets.SelectMany((items, i) => items.Select(p => Purchase($"o{i}-{p}", $"u{i}", p, Noon, $"o{i}"))).ToList();
        await store.RecordEventsAsync(events, None);

        await SettleAsync(store);
        var pairs = await store.GetCoPurchasesAsync(["a", "c", "unknown"], 2, None);

        // a: with b 3×, with c 2×, with d 2× (d cut by the limit: ties go to the smaller id).
        // c: with a 2×, with b 2×, then nothing else.  Baskets: a 5, b 4, c 3, d 2.
        Assert.Equal(
            [new CoPurchase("a", "b", 3, 5, 4), new CoPurchase("a", "c", 2, 5, 3),
             new CoPurchase("c", "a", 2, 3, 5), new CoPurchase("c", "b", 2, 3, 4)],
            pairs.OrderBy(p => p.SourceProductId, StringComparer.Ordinal));
        Assert.Equal(["b", "c", "d"], (await store.GetCoPurchasesAsync(["a"], 10, None)).Select(p => p.ProductId));
    }

    // ---- trending ----

    [Fact]
    public async Task A_recent_burst_outranks_many_more_purchases_years_earlier_and_keys_stay_finite()
    {
        await using var store = await CreateStoreAsync();
        var longAgo = new DateTimeOffset(2011, 1, 10, 9, 0, 0, TimeSpan.Zero);
        var lastYear = new DateTimeOffset(2025, 6, 1, 9, 0, 0, TimeSpan.Zero);
        var recent = new DateTimeOffset(2026, 2, 1, 9, 0, 0, TimeSpan.Zero);
        var oldEvents = Enumerable.Range(0, 200).Select(i => Purchase($"old{i}", $"u{i}", "old-favourite", longAgo.AddHours(i), null)).ToList();
        var midEvents = Enumerable.Range(0, 20).Select(i => Purchase($"mid{i}", $"u{i}", "last-year", lastYear.AddHours(i), null)).ToList();
        var newEvents = Enumerable.Range(0, 3).Select(i => Purchase($"new{i}", $"u{i}", "new-hit", recent.AddHours(i), null)).ToList();

        // Newest first: the order of arrival must not matter.
        await store.RecordEventsAsync([.. newEvents, .. midEvents], None);
        await store.RecordEventsAsync(oldEvents, None);

        var trending = await store.GetTrendingAsync(null, 10, None);
        Assert.Equal(["new-hit", "last-year", "old-favourite"], trending.Select(t => t.ProductId));
        Assert.All(trending, t => Assert.True(double.IsFinite(t.LogScore), $"{t.ProductId}: {t.LogScore}"));
        Assert.Equal(ExpectedKey(newEvents), trending[0].LogScore, 9);
        Assert.Equal(ExpectedKey(oldEvents), trending[2].LogScore, 9);
    }

    [Fact]
    public async Task Popularity_weighs_each_event_by_type_and_quantity()
    {
        await using var store = await CreateStoreAsync();
        UserEvent[] events =
        [
            Purchase("e1", "u1", "bulk", Noon, "o1", quantity: 1000),
            Purchase("e2", "u2", "single", Noon, "o2"),
            Interaction("e3", EventType.AddToCart, "u3", "carted", Noon),
            Interaction("e4", EventType.View, "u4", "viewed", Noon),
            Interaction("e5", EventType.Click, "u5", "viewed", Noon),
        ];

        await store.RecordEventsAsync(events, None);

        var trending = await store.GetTrendingAsync(null, 10, None);
        Assert.Equal(["bulk", "single", "carted", "viewed"], trending.Select(t => t.ProductId));
        Assert.All(trending, t => Assert.Equal(ExpectedKey(events.Where(e => e.ProductId == t.ProductId)), t.LogScore, 9));
    }

    [Fact]
    public async Task Trending_filters_by_the_current_catalog_category_and_honours_the_limit()
    {
        await using var store = await CreateStoreAsync();
        await store.UpsertProductsAsync(
            [CatalogItem("k2", "kitchen"), CatalogItem("k1", "kitchen"), CatalogItem("k-top", "kitchen"), CatalogItem("g1", "garden"), CatalogItem("unsold", "kitchen")],
            None);
        // Events may name products the catalog does not (yet) know: "ghost".
        UserEvent[] events =
        [
            Purchase("e1", "u1", "k-top", Noon.AddDays(2), null),
            Purchase("e2", "u1", "k1", Noon, null),
            Purchase("e3", "u2", "k2", Noon, null),
            Purchase("e4", "u3", "g1", Noon.AddDays(1), null),
            Purchase("e5", "u4", "ghost", Noon.AddDays(3), null),
        ];
        await store.RecordEventsAsync(events, None);

        var everything = await store.GetTrendingAsync(null, 10, None);
        Assert.Equal(
            [("ghost", ""), ("k-top", "kitchen"), ("g1", "garden"), ("k1", "kitchen"), ("k2", "kitchen")],
            everything.Select(t => (t.ProductId, t.Category)));
        Assert.Equal(["k-top", "k1", "k2"], (await store.GetTrendingAsync("kitchen", 10, None)).Select(t => t.ProductId));
        Assert.Equal(["k-top", "k1"], (await store.GetTrendingAsync("kitchen", 2, None)).Select(t => t.ProductId));
        Assert.Equal(["ghost", "k-top"], (await store.GetTrendingAsync(null, 2, None)).Select(t => t.ProductId));
        Assert.Empty(await store.GetTrendingAsync("toys", 10, None));

        await store.UpsertProductsAsync([CatalogItem("g1", "kitchen")], None);
        Assert.Equal(["k-top", "g1", "k1", "k2"], (await store.GetTrendingAsync("kitchen", 10, None)).Select(t => t.ProductId));
    }

    // ---- per-user history ----

    [Fact]
    public async Task Recent_interactions_come_newest_first_one_row_per_product_and_type()
    {
        await using var store = await CreateStoreAsync();
        await store.RecordEventsAsync(
        [
            Interaction("e1", EventType.View, "u1", "a", Noon.AddMinutes(1)),
            Interaction("e2", EventType.View, "u1", "a", Noon.AddMinutes(3)),
            Purchase("e3", "u1", "a", Noon.AddMinutes(2), "o1"),
            Interaction("e4", EventType.AddToCart, "u1", "b", Noon.AddMinutes(4)),
            Interaction("e5", EventType.View, "u1", "c", Noon),
            Interaction("e6", EventType.View, "u2", "d", Noon.AddMinutes(5)),
        ], None);

        var all = await store.GetRecentInteractionsAsync("u1", 10, None);
        var two = await store.GetRecentInteractionsAsync("u1", 2, None);

        Interaction[] expected =
        [
            new("b", EventType.AddToCart, Noon.AddMinutes(4), 1),
            new("a", EventType.View, Noon.AddMinutes(3), 2),
            new("a", EventType.Purchase, Noon.AddMinutes(2), 1),
            new("c", EventType.View, Noon, 1),
        ];
        Assert.Equal(expected, all);
        Assert.Equal(expected.Take(2), two);
        Assert.Empty(await store.GetRecentInteractionsAsync("nobody", 10, None));
    }

    [Fact]
    public async Task Recent_interactions_are_counted_over_a_window_of_the_latest_events()
    {
        await using var store = await CreateStoreAsync();
        // Two interactions asked for read the latest 2 × EventsReadPerInteraction events: with five more views of b
        // after one old view of a, that window holds only views of b.
        var window = 2 * IHistoryStore.EventsReadPerInteraction;
        await store.RecordEventsAsync(
            [Interaction("e-a", EventType.View, "u1", "a", Noon), .. Enumerable.Range(1, window + 5).Select(i => Interaction($"e-b{i}", EventType.View, "u1", "b", Noon.AddMinutes(i)))],
            None);

        var narrow = await store.GetRecentInteractionsAsync("u1", 2, None);
        var wide = await store.GetRecentInteractionsAsync("u1", 10, None);

        Assert.Equal([new Interaction("b", EventType.View, Noon.AddMinutes(window + 5), window)], narrow);
        Assert.Equal([new Interaction("b", EventType.View, Noon.AddMinutes(window + 5), window + 5), new Interaction("a", EventType.View, Noon, 1)], wide);
    }

    [Fact]
    public async Task Purchased_ids_are_exactly_the_users_purchases()
    {
        await using var store = await CreateStoreAsync();
        await store.RecordEventsAsync(
        [
            Purchase("e1", "u1", "a", Noon, "o1"),
            Purchase("e2", "u1", "a", Noon.AddDays(1), "o2"),
            Purchase("e3", "u1", "b", Noon, null),
            Interaction("e4", EventType.AddToCart, "u1", "c", Noon),
            Purchase("e5", "u2", "d", Noon, "o3"),
        ], None);

        Assert.Equal(["a", "b"], (await store.GetPurchasedProductIdsAsync("u1", None)).Order(StringComparer.Ordinal));
        Assert.Empty(await store.GetPurchasedProductIdsAsync("nobody", None));
    }

    // ---- embedding cache ----

    [Fact]
    public async Task Embeddings_round_trip_bit_for_bit_and_misses_are_absent()
    {
        await using var store = await CreateStoreAsync();
        var spec = new IndexSpec("qwen3-embedding-0.6b", 4);
        var first = new[] { 0.1f, -1f / 3, 123456.79f, 1e-20f };
        var second = new[] { -0.5f, 0f, float.MaxValue, float.MinValue };

        await store.PutEmbeddingsAsync(spec, [new(TextHash.Of("mug"), first), new(TextHash.Of("lamp"), second)], None);
        var found = await store.GetEmbeddingsAsync(spec, [TextHash.Of("mug"), TextHash.Of("lamp"), TextHash.Of("never embedded")], None);

        Assert.Equal(new[] { TextHash.Of("lamp"), TextHash.Of("mug") }.Order(StringComparer.Ordinal), found.Keys.Order(StringComparer.Ordinal));
        AssertBitwiseEqual(first, found[TextHash.Of("mug")]);
        AssertBitwiseEqual(second, found[TextHash.Of("lamp")]);
    }

    [Fact]
    public async Task Putting_an_embedding_again_replaces_it()
    {
        await using var store = await CreateStoreAsync();
        var spec = new IndexSpec("m", 2);
        var hash = TextHash.Of("text");

        await store.PutEmbeddingsAsync(spec, [new(hash, [1f, 2f])], None);
        await store.PutEmbeddingsAsync(spec, [new(hash, [3f, 4f])], None);

        AssertBitwiseEqual([3f, 4f], (await store.GetEmbeddingsAsync(spec, [hash], None))[hash]);
    }

    [Fact]
    public async Task Embeddings_are_isolated_by_model_and_dimension()
    {
        await using var store = await CreateStoreAsync();
        var hash = TextHash.Of("same text");
        var modelA2 = new IndexSpec("model-a", 2);
        var modelB2 = new IndexSpec("model-b", 2);
        var modelA3 = new IndexSpec("model-a", 3);

        await store.PutEmbeddingsAsync(modelA2, [new(hash, [1f, 2f])], None);
        await store.PutEmbeddingsAsync(modelB2, [new(hash, [3f, 4f])], None);

        AssertBitwiseEqual([1f, 2f], (await store.GetEmbeddingsAsync(modelA2, [hash], None))[hash]);
        AssertBitwiseEqual([3f, 4f], (await store.GetEmbeddingsAsync(modelB2, [hash], None))[hash]);
        Assert.Empty(await store.GetEmbeddingsAsync(modelA3, [hash], None));
    }

    // ---- durability ----

    [Fact]
    public async Task Everything_written_survives_a_reopen_and_baskets_keep_growing_after_it()
    {
        var store = await CreateStoreAsync();
        await using var disposeOriginal = store;
        var product = new Product("a", "Mug", "Blue", "kitchen", 3.5, true, new Dictionary<string, string> { ["k"] = "v" });
        var spec = new IndexSpec("m", 3);
        var hash = TextHash.Of("Mug\nBlue");
        UserEvent[] before = [Purchase("e1", "u1", "a", Noon, "o1"), Purchase("e2", "u1", "b", Noon, "o1")];
        await store.UpsertProductsAsync([product, CatalogItem("gone")], None);
        await store.DeleteProductsAsync(["gone"], None);
        await store.RecordEventsAsync(before, None);
        await store.PutEmbeddingsAsync(spec, [new(hash, [1f, 2f, 3f])], None);

        await using var reopened = await ReopenAsync(store);

        AssertSameProduct(product, Assert.Single(await reopened.GetProductsAsync(["a", "gone"], None)).Value);
        Assert.Equal(1, await reopened.CountProductsAsync(None));
        Assert.Equal(["a", "b"], (await reopened.GetPurchasedProductIdsAsync("u1", None)).Order(StringComparer.Ordinal));
        Assert.Equal(2, (await reopened.GetRecentInteractionsAsync("u1", 10, None)).Count);
        Assert.Equal(ExpectedKey(before.Take(1)), (await reopened.GetTrendingAsync("kitchen", 1, None)).Single().LogScore, 9);
        AssertBitwiseEqual([1f, 2f, 3f], (await reopened.GetEmbeddingsAsync(spec, [hash], None))[hash]);
        Assert.Equal(new RecordResult(0, 1), await reopened.RecordEventsAsync([before[0]], None));

        // Basket membership is durable too: a later line of the same order pairs with the earlier ones.
        await reopened.RecordEventsAsync([Purchase("e3", "u1", "c", Noon.AddMinutes(1), "o1")], None);
        await SettleAsync(reopened);
        Assert.Equal(
            [new CoPurchase("c", "a", 1, 1, 1), new CoPurchase("c", "b", 1, 1, 1)],
            await reopened.GetCoPurchasesAsync(["c"], 10, None));
    }

    [Fact]
    public async Task Content_hashes_are_kept_per_version_and_deleted_by_product_or_whole_version()
    {
        await using var store = await CreateStoreAsync();
        await store.PutContentHashesAsync("v1", [new("a", "1"), new("b", "1"), new("c", "1")], None);
        await store.PutContentHashesAsync("v2", [new("a", "2")], None);

        await store.DeleteContentHashesAsync("v1", ["b", "missing"], None);
        Assert.Equal(2, await store.CountContentHashesAsync("v1", None));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["c"] = "1" }, await store.GetContentHashesAsync("v1", ["a", "b", "c"], None));
        await store.DropContentHashesAsync("v1", None);

        Assert.Equal(0, await store.CountContentHashesAsync("v1", None));
        Assert.Equal(1, await store.CountContentHashesAsync("v2", None));
    }
}
