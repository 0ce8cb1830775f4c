using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommend.Core.Embeddings;
using Recommend.EmbeddedIndex;
using Recommend.Embeddings.Qwen;
using Recommend.Indexing;
using Recommend.Postgres;
using Recommend.Qdrant;
using Recommend.Sqlite;
using Recommend.Training;

namespace Recommend.Composition;

/// <summary>Chooses the adapters named by configuration; each adapter wires itself. No business logic here.</summary>
public static class BackendComposition
{
    /// <summary>
    /// What the server and the offline jobs share, chosen by configuration: the store, the vector index, the embedder,
    /// the re-indexing engine over them and the item-to-item model's trainer.
    /// </summary>
    public static RecommendOptions AddRecommendBackends(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(RecommendOptions.Section);
        var options = section.Get<RecommendOptions>() ?? new RecommendOptions();
        services.Configure<RecommendOptions>(section);
        AddStore(services, options, configuration);
        AddVectorIndex(services, options);
        AddEmbedder(services, options.Embedder);
        services.AddReindexing(options.Reindex);
        services.AddItemModelTraining(options.Training);
        return options;
    }

    private static void AddStore(IServiceCollection services, RecommendOptions options, IConfiguration configuration)
    {
        switch (options.Store.Provider.ToLowerInvariant())
        {
            case "sqlite":
                services.AddSqliteStore(Path.Combine(options.DataDirectory, "recommend.db"));
                break;
            case "postgres":
                var connectionString = configuration.GetConnectionString("Postgres");
                if (string.IsNullOrWhiteSpace(connectionString))
                    throw new OptionsValidationException("ConnectionStrings:Postgres", typeof(StoreOptions), ["ConnectionStrings:Postgres (env ConnectionStrings__Postgres) is required for the postgres store"]);
                services.AddPostgresStore(connectionString);
                break;
            default:
                throw new OptionsValidationException("Recommend:Store:Provider", typeof(StoreOptions), [$"unknown store provider '{options.Store.Provider}' (sqlite | postgres)"]);
        }
    }

    private static void AddVectorIndex(IServiceCollection services, RecommendOptions options)
    {
        switch (options.VectorIndex.Provider.ToLowerInvariant())
        {
            case "embedded":
                services.AddEmbeddedIndex(Path.Combine(options.DataDirectory, "index"), options.VectorIndex.Embedded);
                break;
            case "qdrant":
                services.AddQdrantIndex(options.VectorIndex.Qdrant);
                break;
            default:
                throw new OptionsValidationException("Recommend:VectorIndex:Provider", typeof(VectorIndexOptions), [$"unknown vector index provider '{options.VectorIndex.Provider}'"]);
        }
    }

    /// <summary>Qwen3 over ONNX Runtime when a model is present, else the hashing fallback (with a warning).</summary>
    private static void AddEmbedder(IServiceCollection services, EmbedderOptions options)
    {
        if (QwenEmbedder.TryFindModel(options.ModelDirectory, options.Precision) is not null)
        {
            services.AddQwenEmbedder(new QwenEmbedderOptions
            {
                ModelDirectory = options.ModelDirectory,
                Precision = options.Precision,
                Dimension = options.Dimension ?? EmbedderOptions.DefaultQwenDimension,
                MaxTokens = options.MaxTokens,
                IntraOpThreads = options.IntraOpThreads,
                UseCuda = options.UseCuda,
                QueryTask = options.QueryTask,
            });
            return;
        }
        services.AddSingleton(sp =>
        {
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Recommend.Embedder").LogWarning(
                "No Qwen3-Embedding model in {Directory} ({Precision}); using the hashing fallback embedder. "
                + "Fetch one with deploy/scripts/fetch-qwen3-embedding.sh", Path.GetFullPath(options.ModelDirectory), options.Precision);
            return IEmbedderProvider.Create(new HashingEmbedder(options.Dimension ?? HashingEmbedder.DefaultDimension));
        });
    }
}
