using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Recommend.Api.Grpc;
using Recommend.Api.Seeding;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Ranking;

namespace Recommend.Api.Composition;

/// <summary>Composes the host: backends from configuration, the core's services, gRPC, health. No business logic here.</summary>
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
        // After the store's own hosted services, so the job host stops (leaving jobs resumable) before the store closes.
        services.AddHostedService<ReindexJobHost>();
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
}
