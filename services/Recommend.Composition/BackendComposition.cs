using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.History;
using Recommend.Core.Reindexing;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex;
using Recommend.Embeddings.Qwen;
using Recommend.Qdrant;

namespace Recommend.Composition;

/// <summary>Wires the adapters chosen by configuration behind the core's ports. No business logic here.</summary>
public static class BackendComposition
{
    /// <summary>
    /// What the server and the offline re-index worker share, chosen by configuration: the store (connected in the
    /// background, with migrations), the vector index, the embedder and the re-indexing options.
    /// </summary>
    public static RecommendOptions AddRecommendBackends(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(RecommendOptions.Section);
        var options = section.Get<RecommendOptions>() ?? new RecommendOptions();
        services.Configure<RecommendOptions>(section);
        services.AddSingleton(TimeProvider.System);
        AddStore(services, options, configuration);
        AddVectorIndex(services, options);
        // One model instance; serving and re-indexing embed through the provider (it follows the live version's
        // dimension) and apply the embedding cache themselves.
        services.AddSingleton(sp => IEmbedderProvider.Create(CreateEmbedder(options.Embedder, sp.GetRequiredService<ILoggerFactory>())));
        services.AddSingleton(options.Reindex);
        return options;
    }

    /// <summary>Completes once the background connection to the store (registered by <see cref="AddRecommendBackends"/>) is up.</summary>
    public static Task WhenStoreConnectedAsync(this IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<DeferredStore>().WhenConnected.WaitAsync(ct);

    private static void AddStore(IServiceCollection services, RecommendOptions options, IConfiguration configuration)
    {
        var provider = options.Store.Provider.ToLowerInvariant();
        if (provider is not ("sqlite" or "postgres"))
            throw new OptionsValidationException("Recommend:Store:Provider", typeof(StoreOptions), [$"unknown store provider '{options.Store.Provider}' (sqlite | postgres)"]);
        if (provider == "postgres" && string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres")))
            throw new OptionsValidationException("ConnectionStrings:Postgres", typeof(StoreOptions), ["ConnectionStrings:Postgres (env ConnectionStrings__Postgres) is required for the postgres store"]);

        services.AddSingleton<DeferredStore>();
        services.AddHostedService<StoreConnector>();
        services.AddSingleton<ICatalogStore>(sp => sp.GetRequiredService<DeferredStore>());
        services.AddSingleton<IHistoryStore>(sp => sp.GetRequiredService<DeferredStore>());
        services.AddSingleton<IEmbeddingCache>(sp => sp.GetRequiredService<DeferredStore>());
        services.AddSingleton<IReindexJobStore>(sp => sp.GetRequiredService<DeferredStore>());
    }

    /// <summary>One shared embedder per process: Qwen3 over ONNX Runtime when a model is present, else the fallback.</summary>
    private static IEmbedder CreateEmbedder(EmbedderOptions options, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Recommend.Embedder");
        if (QwenEmbedder.TryFindModel(options.ModelDirectory, options.Precision) is null)
        {
            logger.LogWarning("No Qwen3-Embedding model in {Directory} ({Precision}); using the hashing fallback embedder. "
                + "Fetch one with deploy/scripts/fetch-qwen3-embedding.sh", Path.GetFullPath(options.ModelDirectory), options.Precision);
            return new HashingEmbedder(options.Dimension ?? HashingEmbedder.DefaultDimension);
        }
        return QwenEmbedder.Create(new QwenEmbedderOptions
        {
            ModelDirectory = options.ModelDirectory,
            Precision = options.Precision,
            Dimension = options.Dimension ?? QwenEmbedderOptions.MaxDimension,
            MaxTokens = options.MaxTokens,
            IntraOpThreads = options.IntraOpThreads,
            UseCuda = options.UseCuda,
            QueryTask = options.QueryTask,
        }, logger);
    }

    private static void AddVectorIndex(IServiceCollection services, RecommendOptions options)
    {
        switch (options.VectorIndex.Provider.ToLowerInvariant())
        {
            case "embedded":
                services.AddSingleton<IVectorIndex>(_ => EmbeddedVectorIndex.Open(Path.Combine(options.DataDirectory, "index")));
                break;
            case "qdrant":
                services.AddSingleton<IVectorIndex>(sp => new QdrantVectorIndex(options.VectorIndex.Qdrant, sp.GetRequiredService<ILoggerFactory>()));
                break;
            default:
                throw new OptionsValidationException("Recommend:VectorIndex:Provider", typeof(VectorIndexOptions), [$"unknown vector index provider '{options.VectorIndex.Provider}'"]);
        }
    }
}
