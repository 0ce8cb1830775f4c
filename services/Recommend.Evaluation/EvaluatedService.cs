using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recommend.Composition;
using Recommend.Core.Catalog;
using Recommend.Core.History;
using Recommend.Core.Learning;
using Recommend.Core.Ranking;
using Recommend.Core.Vectors;
using Recommend.Training;

namespace Recommend.Evaluation;

/// <summary>
/// The service as it would stand at the split: the configured embedder over a temporary embedded store and index
/// (SQLite + embedded vector index, deleted afterwards), the catalog and the training purchases loaded through the
/// same catalog service and history store the host uses, and the learned model trained by the same trainer.
/// Rankings come from the same <see cref="RecommendationEngine"/> as a storefront's Recommend call.
/// </summary>
public sealed class EvaluatedService : IAsyncDisposable
{
    private const int ProductBatch = 500;
    private const int EventBatch = 10_000;

    private readonly IHost _host;
    private readonly string _directory;

    private EvaluatedService(IHost host, string directory)
    {
        _host = host;
        _directory = directory;
    }

    public RecommendationEngine Engine => _host.Services.GetRequiredService<RecommendationEngine>();

    /// <summary>The configured default profile (Recommend:Ranking).</summary>
    public RankingProfile DefaultProfile => _host.Services.GetRequiredService<RecommendOptions>().Ranking;

    public ItemModelInfo? Model => _host.Services.GetRequiredService<LiveItemModel>().Current?.Info;

    public string Embedder { get; private set; } = "";

    /// <param name="configuration">The user's configuration (appsettings, environment): the embedder, the ranking defaults, training.</param>
    /// <param name="progress">Products and purchases loaded so far, of the total.</param>
    public static async Task<EvaluatedService> BuildAsync(IConfiguration configuration, IReadOnlyList<Product> catalog, IReadOnlyList<Purchase> train,
        IProgress<(int Done, int Total)>? progress, CancellationToken ct)
    {
        var directory = Directory.CreateTempSubdirectory("recommend-eval-").FullName;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Nothing is served meanwhile: the solver may take every core unless configured otherwise.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Recommend:Training:Threads"] = $"{Environment.ProcessorCount}" });
        builder.Configuration.AddConfiguration(configuration);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Recommend:DataDirectory"] = directory,
            ["Recommend:Store:Provider"] = "sqlite",
            ["Recommend:VectorIndex:Provider"] = "embedded",
        });
        builder.Logging.ClearProviders();
        var options = builder.Services.AddRecommendBackends(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<CatalogService>();
        builder.Services.AddSingleton<RecommendationEngine>();
        var host = builder.Build();
        var service = new EvaluatedService(host, directory);
        try
        {
            await host.StartAsync(ct);
            await host.Services.GetRequiredService<IStoreReadiness>().WhenReadyAsync(ct);
            var total = catalog.Count + train.Count;
            var done = 0;
            var catalogService = host.Services.GetRequiredService<CatalogService>();
            foreach (var batch in catalog.Chunk(ProductBatch))
            {
                await catalogService.UpsertAsync(batch, ct);
                progress?.Report((done += batch.Length, total));
            }
            var history = host.Services.GetRequiredService<IHistoryStore>();
            foreach (var batch in train.Chunk(EventBatch))
            {
                await history.RecordEventsAsync(batch.Select(p => p.ToEvent()).ToList(), ct);
                progress?.Report((done += batch.Length, total));
            }
            await history.SettleCoPurchasesAsync(ct);
            await host.Services.GetRequiredService<ItemModelTrainer>().TrainAsync(null, ct);
            service.Embedder = (await host.Services.GetRequiredService<IVectorIndex>().GetLiveVersionAsync(ct))?.Spec.ModelId ?? "";
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>Ranks with <paramref name="profile"/> exactly as a storefront's Recommend call for the customer would.</summary>
    public IRanker Ranker(string name, RankingProfile profile) => new EngineRanker(name, Engine, profile);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(CancellationToken.None);
        }
        finally
        {
            _host.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    private sealed class EngineRanker(string name, RecommendationEngine engine, RankingProfile profile) : IRanker
    {
        public string Name => name;

        public async Task<IReadOnlyList<string>> RankAsync(string userId, Setting setting, int k, CancellationToken ct)
        {
            var options = new RequestOptions(k, ProductFilter.None, userId, IncludePurchased: setting == Setting.BuyAgain, Placement: null);
            var result = await engine.RecommendAsync([], options, profile, ct);
            return result.Items.Select(i => i.Product.Id).ToList();
        }
    }
}
