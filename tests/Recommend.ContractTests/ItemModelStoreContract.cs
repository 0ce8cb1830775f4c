using Recommend.Core.History;
using Recommend.Core.Learning;
using Xunit;

namespace Recommend.ContractTests;

/// <summary>
/// What every store behind <see cref="IItemModelStore"/> and the training reads of <see cref="IHistoryStore"/> must do:
/// models read back exactly, versions increase and only the live one and its predecessor are kept, and the purchase
/// summaries training learns from are grouped by user and product with counts and last times. Each test gets a store
/// over its own empty database.
/// </summary>
public abstract class ItemModelStoreContract<TStore> where TStore : IItemModelStore, IHistoryStore, IAsyncDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset T0 = new(2026, 2, 1, 12, 0, 0, TimeSpan.Zero);

    protected abstract Task<TStore> CreateStoreAsync();

    /// <summary>Product ids in several scripts, and one longer than a loader's stack buffer.</summary>
    private static ItemToItemModel Model(string tag, int products) => new(
        new ItemModelInfo(0, T0, $"test {tag}", products, products * 2L, 1234, TimeSpan.FromMilliseconds(1500)),
        Enumerable.Range(0, products).ToDictionary(
            p => $"{tag}-{p}",
            p => new[]
            {
                new ItemNeighbour($"{tag}-{(p + 1) % products}", 0.75f),
                new ItemNeighbour(p == 0 ? new string('長', 200) : $"naïve-ü-{p}", 1e-6f),
            },
            StringComparer.Ordinal));

    [Fact]
    public async Task Before_any_training_there_is_no_live_model()
    {
        await using var store = await CreateStoreAsync();

        Assert.Null(await store.GetLiveModelInfoAsync(None));
        Assert.Null(await store.LoadLiveModelAsync(None));
    }

    [Fact]
    public async Task A_published_model_reads_back_exactly_as_the_live_one()
    {
        await using var store = await CreateStoreAsync();
        var model = Model("a", 300);

        var info = await store.PublishModelAsync(model, None);
        var loaded = await store.LoadLiveModelAsync(None);

        Assert.Equal(1, info.Version);
        Assert.Equal(model.Info with { Version = 1 }, info);
        Assert.Equal(info, await store.GetLiveModelInfoAsync(None));
        Assert.NotNull(loaded);
        Assert.Equal(info, loaded.Info);
        Assert.Equal(model.SourceCount, loaded.SourceCount);
        foreach (var (product, row) in model.Rows) Assert.Equal(row, loaded.NeighboursOf(product));
        Assert.Empty(loaded.NeighboursOf("unknown"));
    }

    [Fact]
    public async Task Each_publication_is_a_new_live_version_and_only_two_are_kept()
    {
        await using var store = await CreateStoreAsync();

        var versions = new List<long>();
        foreach (var tag in new[] { "a", "b", "c" }) versions.Add((await store.PublishModelAsync(Model(tag, 5), None)).Version);
        var live = await store.LoadLiveModelAsync(None);

        Assert.Equal([1L, 2L, 3L], versions);
        Assert.Equal(3, live!.Info.Version);
        Assert.Equal("test c", live.Info.Method);
        Assert.All(live.Sources, key => Assert.StartsWith("c-", key));
    }

    [Fact]
    public async Task A_publication_cancelled_before_it_commits_leaves_the_previous_model_live()
    {
        await using var store = await CreateStoreAsync();
        await store.PublishModelAsync(Model("a", 5), None);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PublishModelAsync(Model("b", 5000), cancelled.Token));
        var next = await store.PublishModelAsync(Model("c", 5), None);

        var live = await store.LoadLiveModelAsync(None);
        Assert.All(live!.Sources, key => Assert.StartsWith("c-", key));
        Assert.Equal(5, live.SourceCount);
        Assert.Equal(next.Version, live.Info.Version);
    }

    [Fact]
    public async Task Purchase_summaries_group_each_users_purchases_by_product_in_user_order()
    {
        await using var store = await CreateStoreAsync();
        UserEvent Purchase(string id, string user, string product, int hours) =>
            new(id, EventType.Purchase, user, product, 1, 1, T0.AddHours(hours), null, $"o-{id}");
        await store.RecordEventsAsync(
        [
            Purchase("1", "u2", "p1", 0), Purchase("2", "u1", "p2", 1), Purchase("3", "u1", "p2", 5), Purchase("4", "u1", "p1", 2),
            new UserEvent("5", EventType.View, "u1", "p3", 1, 1, T0, null, null),
            new UserEvent("6", EventType.AddToCart, "u3", "p3", 1, 1, T0, null, null),
        ], None);

        var summaries = new List<PurchaseSummary>();
        await foreach (var summary in store.ReadPurchaseSummariesAsync(None)) summaries.Add(summary);

        Assert.Equal(
        [
            new PurchaseSummary("u1", "p1", 1, T0.AddHours(2)), new PurchaseSummary("u1", "p2", 2, T0.AddHours(5)), new PurchaseSummary("u2", "p1", 1, T0),
        ], summaries);
        Assert.Equal(4, await store.CountPurchasesAsync(None));
    }

    [Fact]
    public async Task The_purchase_count_follows_every_batch_counting_purchases_once_and_nothing_else()
    {
        await using var store = await CreateStoreAsync();
        UserEvent Event(string id, EventType type) => new(id, type, "u1", "p1", 1, 1, T0, null, $"o-{id}");

        Assert.Equal(0, await store.CountPurchasesAsync(None));
        // A bulk batch (pairs counted later on SQLite) and small ones, with views and replays mixed in.
        await store.RecordEventsAsync(Enumerable.Range(0, 1_500).Select(i => Event($"bulk-{i}", i % 3 == 0 ? EventType.View : EventType.Purchase)).ToList(), None);
        await store.RecordEventsAsync([Event("small-1", EventType.Purchase), Event("small-2", EventType.Click)], None);
        await store.RecordEventsAsync([Event("small-1", EventType.Purchase), Event("bulk-1", EventType.Purchase)], None);

        Assert.Equal(1_000 + 1, await store.CountPurchasesAsync(None));
    }
}
