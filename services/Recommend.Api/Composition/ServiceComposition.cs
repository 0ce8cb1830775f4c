using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Recommend.Api.Grpc;
using Recommend.Api.Seeding;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.History;
using Recommend.Core.Ranking;
using Recommend.Core.Reindexing;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex;
using Recommend.Embeddings.Qwen;
using Recommend.Qdrant;

namespace Recommend.Api.Composition;

/// <summary>Wires adapters chosen by configuration behind the core's ports. No business logic here.</summary>
public static class ServiceComposition
{
    private const string LivenessTag = "live";

    public static WebApplicationBuilder AddRecommend(this WebApplicationBuilder builder)
    {
        var options = builder.Services.AddRecommendBackends(builder.Configuration);
        if (options.Ranking.Validate() is { } problem) throw new OptionsValidationException("Recommend:Ranking", typeof(RankingProfile), [problem]);

        builder.WebHost.UseUrls(options.Listen);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2));

        var services = builder.Services;
        services.AddSingleton(options.Ranking);
        AddReindexing(services);
        services.AddSingleton<RecommendationEngine>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<SampleSeeder>();
        services.AddHostedService(sp => sp.GetRequiredService<SampleSeeder>());

        services.AddGrpc(grpc => grpc.Interceptors.Add<ErrorMappingInterceptor>());
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks(health =>
        {
            // "" (readiness): every check. "liveness": the process only, so a store outage unreadies pods
            // without restarting them.
            health.Services.Map("", _ => true);
            health.Services.Map("liveness", result => result.Tags.Contains(LivenessTag));
        })
            .AddCheck("process", () => HealthCheckResult.Healthy(), tags: [LivenessTag])
            .AddCheck<StoreHealthCheck>("store");
        return builder;
    }

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

    public static WebApplication MapRecommend(this WebApplication app)
    {
        app.MapGrpcService<RecommendationsGrpcService>();
        app.MapGrpcService<EventsGrpcService>();
        app.MapGrpcService<CatalogGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        var embedder = app.Services.GetRequiredService<IEmbedderProvider>().Default.Info;
        app.Logger.LogInformation("Embedder {Embedder}: model {ModelId}, dimension {Dimension}", embedder.Name, embedder.ModelId, embedder.Dimension);
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("Recommend gRPC (h2c) listening on {Addresses}", string.Join(", ", app.Urls)));
        return app;
    }

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

    /// <summary>Registered after the store, so the job host stops (leaving jobs resumable) before the store closes.</summary>
    private static void AddReindexing(IServiceCollection services)
    {
        services.AddSingleton<ReindexService>();
        services.AddHostedService<ReindexJobHost>();
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
