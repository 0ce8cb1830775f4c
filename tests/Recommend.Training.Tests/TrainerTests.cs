using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.History;
using Recommend.Core.Learning;
using Recommend.Core.Ranking;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex;
using Recommend.Indexing;
using Recommend.Sqlite;

namespace Recommend.Training.Tests;

/// <summary>Training against a real SQLite store: when it is due, what other replicas load, and serving through a swap.</summary>
public sealed class TrainerTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Directory.CreateTempSubdirectory("training-").FullName;
    private readonly Clock _clock = new(T0);
    private SqliteStore _store = null!;
    private int _events;

    public async Task InitializeAsync()
    {
        _store = SqliteStore.Open(Path.Combine(_directory, "store.db"));
        // 40 customers over 12 products in 4 themes: each buys two products of one theme.
        for (var u = 0; u < 40; u++) await BuyAsync($"u{u}", T0.AddHours(u), $"p{u % 4}-a", $"p{u % 4}-{(u / 4) % 2}");
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Task BuyAsync(string user, DateTimeOffset at, params string[] products) =>
        _store.RecordEventsAsync(products.Select(p => new UserEvent($"e{++_events}", EventType.Purchase, user, p, 1, 1, at, null, $"o-{user}-{at.Ticks}")).ToList(), None);

    private ItemModelTrainer Trainer(LiveItemModel live, long minNewPurchases = 10) =>
        new(_store, _store, live, new TrainingOptions { MinNewPurchases = minNewPurchases, Interval = TimeSpan.FromHours(6), Lambda = 10 }, _clock,
            NullLogger<ItemModelTrainer>.Instance);

    [Fact]
    public async Task Training_is_due_at_cold_start_after_enough_new_purchases_and_after_the_interval()
    {
        var live = new LiveItemModel();
        var trainer = Trainer(live, minNewPurchases: 10);
        Assert.True(await trainer.IsDueAsync(None));

        var info = await trainer.TrainAsync(null, None);
        Assert.NotNull(info);
        Assert.Equal(80, info.Purchases);
        Assert.False(await trainer.IsDueAsync(None));

        await BuyAsync("late", T0.AddDays(1), "p1-a");
        Assert.False(await trainer.IsDueAsync(None));
        _clock.Now = T0.AddHours(7);
        Assert.True(await trainer.IsDueAsync(None)); // older than the interval, and something new arrived

        _clock.Now = T0;
        for (var i = 0; i < 5; i++) await BuyAsync($"burst{i}", T0.AddDays(1), "p2-a", "p2-0");
        Assert.True(await trainer.IsDueAsync(None)); // 11 new purchases ≥ 10
    }

    [Fact]
    public async Task Another_replica_loads_the_published_model_and_keeps_only_two_versions()
    {
        var trained = new LiveItemModel();
        var trainer = Trainer(trained);
        var first = await trainer.TrainAsync(null, None);
        await BuyAsync("u-extra", T0.AddDays(1), "p3-a", "p3-1");
        var second = await trainer.TrainAsync(null, None);
        var third = await trainer.TrainAsync(null, None);

        var replica = new LiveItemModel();
        Assert.True(await Trainer(replica).RefreshAsync(None));
        Assert.False(await Trainer(replica).RefreshAsync(None)); // already serving the newest

        Assert.Equal([1L, 2L, 3L], new[] { first!.Version, second!.Version, third!.Version });
        Assert.Equal(3, replica.Current!.Info.Version);
        Assert.Equal(trained.Current!.Sources.Order(), replica.Current.Sources.Order());
        foreach (var (product, row) in trained.Current.Rows) Assert.Equal(row, replica.Current.NeighboursOf(product));
        // Each theme's products predict each other.
        Assert.All(replica.Current.NeighboursOf("p1-0").Where(n => n.Weight > 0), n => Assert.StartsWith("p1-", n.ProductId));
        // The store keeps the live version and the one before it.
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "store.db")}");
        await connection.OpenAsync();
        await using var versions = connection.CreateCommand();
        versions.CommandText = "SELECT group_concat(version) FROM (SELECT version FROM item_models ORDER BY version)";
        Assert.Equal("2,3", await versions.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Requests_keep_being_answered_from_a_model_while_a_new_one_is_trained_and_swapped_in()
    {
        using var index = EmbeddedVectorIndex.Open(Path.Combine(_directory, "index"));
        var embedders = IEmbedderProvider.Create(new HashingEmbedder());
        var catalog = new CatalogService(_store, index, embedders, _store, _store, new ActiveIndexBuild(_store));
        await catalog.UpsertAsync(Enumerable.Range(0, 4).SelectMany(t => new[] { "a", "0", "1" }.Select(s =>
            new Product($"p{t}-{s}", $"THEME {t} PRODUCT {s}", "", "", 1, true, Product.NoAttributes))).ToList(), None);
        var live = new LiveItemModel();
        var trainer = Trainer(live);
        await trainer.TrainAsync(null, None);
        var engine = new RecommendationEngine(_store, _store, index, embedders, live, NullLogger<RecommendationEngine>.Instance);
        var profile = RankingProfile.Default with { Sources = CandidateSources.Learned, SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 0 };
        await BuyAsync("u-extra", T0.AddDays(1), "p3-a", "p3-1");

        using var stop = new CancellationTokenSource();
        var answered = 0;
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await engine.RecommendAsync([], new RequestOptions(5, ProductFilter.None, "u1", false, null), profile, None);
                Assert.NotEmpty(result.Items);
                Assert.All(result.Items, item => Assert.Equal(ReasonKind.CustomersAlsoBought, item.Reasons[0].Kind));
                Interlocked.Increment(ref answered);
            }
        });
        var second = await trainer.TrainAsync(null, None);
        await Task.Delay(100);
        await stop.CancelAsync();
        await serving;

        Assert.Equal(2, second!.Version);
        Assert.Equal(2, live.Current!.Info.Version);
        Assert.True(answered > 0);
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
