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

namespace Recommend.Ranking.Tests;

/// <summary>A throwaway store + index + engine in a temp directory, with helpers to describe a shop.</summary>
internal sealed class RankingWorld : IAsyncDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ranking-").FullName;
    private int eventCounter;

    public RankingWorld(Func<IVectorIndex, IVectorIndex>? wrapIndex = null)
    {
        Store = SqliteStore.Open(Path.Combine(directory, "store.db"));
        EmbeddedIndex = EmbeddedVectorIndex.Open(Path.Combine(directory, "index"));
        Index = wrapIndex?.Invoke(EmbeddedIndex) ?? EmbeddedIndex;
        Embedder = new HashingEmbedder();
        var embedders = IEmbedderProvider.Create(Embedder);
        Catalog = new CatalogService(Store, Index, embedders, Store, Store, new ActiveIndexBuild(Store));
        Engine = new RecommendationEngine(Store, Store, Index, embedders, LearnedModel, NullLogger<RecommendationEngine>.Instance);
    }

    public SqliteStore Store { get; }
    public EmbeddedVectorIndex EmbeddedIndex { get; }
    public IVectorIndex Index { get; }
    public HashingEmbedder Embedder { get; }
    public CatalogService Catalog { get; }
    public RecommendationEngine Engine { get; }
    /// <summary>Empty until a test trains or offers a model.</summary>
    public LiveItemModel LearnedModel { get; } = new();

    public static DateTimeOffset Day(int day) => new DateTimeOffset(2011, 11, 1, 10, 0, 0, TimeSpan.Zero).AddDays(day);

    public Task AddProductsAsync(params Product[] products) => Catalog.UpsertAsync(products, CancellationToken.None);

    public static Product Product(string id, string title, string category = "Home", double price = 5, bool inStock = true) =>
        new(id, title, "", category, price, inStock, Core.Catalog.Product.NoAttributes);

    public Task BuyAsync(string user, string order, DateTimeOffset at, params string[] productIds) =>
        Store.RecordEventsAsync(productIds.Select(p =>
            new UserEvent($"e{Interlocked.Increment(ref eventCounter)}", EventType.Purchase, user, p, 1, 1, at, null, order)).ToList(), CancellationToken.None);

    public Task ViewAsync(string user, DateTimeOffset at, string productId) =>
        Store.RecordEventsAsync([new UserEvent($"e{Interlocked.Increment(ref eventCounter)}", EventType.View, user, productId, 1, 1, at, null, null)], CancellationToken.None);

    public static RequestOptions Options(string? user = null, int limit = 10, ProductFilter? filter = null, bool includePurchased = false) =>
        new(limit, filter ?? ProductFilter.None, user, includePurchased, null);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        EmbeddedIndex.Dispose();
        Directory.Delete(directory, recursive: true);
    }
}
