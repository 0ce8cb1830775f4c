using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Recommend.Api.Grpc;
using Recommend.Api.Seeding;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Experiments;
using Recommend.Core.Ranking;

namespace Recommend.Api.Composition;

/// <summary>Composes the host: backends from configuration, the core's services, gRPC, health. No business logic here.</summary>
public static class ServiceComposition
{
    private const string LivenessTag = "live";

    public static WebApplicationBuilder AddRecommend(this WebApplicationBuilder builder)
    {
        var options = builder.Services.AddRecommendBackends(builder.Configuration);
        if (options.Ranking.Validate() is { } problem)
            throw new OptionsValidationException("Recommend:Ranking", typeof(RankingProfile), [$"{problem.Field}: {problem.Message}"]);

        var addresses = new ListenAddresses();
        builder.Services.AddSingleton(addresses);
        builder.WebHost.ConfigureKestrel(kestrel => addresses.Configure(kestrel, options.Listen, options.HttpListen));

        var services = builder.Services;
        services.AddSingleton(options.Ranking);
        // After the store's own hosted services, so the job host stops (leaving jobs resumable) before the store closes.
        services.AddHostedService<ReindexJobHost>();
        services.AddSingleton<RecommendationEngine>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<SampleSeeder>();
        services.AddHostedService(sp => sp.GetRequiredService<SampleSeeder>());
        AddExperiments(services);

        services.AddGrpc(grpc => grpc.Interceptors.Add<ErrorMappingInterceptor>()).AddJsonTranscoding();
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
        app.MapGrpcService<ExperimentsGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        var embedder = app.Services.GetRequiredService<IEmbedderProvider>().Default.Info;
        app.Logger.LogInformation("Embedder {Embedder}: model {ModelId}, dimension {Dimension}", embedder.Name, embedder.ModelId, embedder.Dimension);
        MapDashboard(app);
        app.MapPrometheusScrapingEndpoint();
        var addresses = app.Services.GetRequiredService<ListenAddresses>();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            app.Logger.LogInformation("Recommend gRPC (h2c) listening on {Address}", addresses.Grpc);
            app.Logger.LogInformation("Recommend HTTP/1.1 (JSON API, /dashboard, /metrics) listening on {Address}", addresses.Http);
        });
        return app;
    }

    /// <summary>Experiments: lifecycle and reports, serving through the router, exposures flushed off the request path.</summary>
    private static void AddExperiments(IServiceCollection services)
    {
        services.AddSingleton<ExperimentMetrics>();
        services.AddSingleton<RunningExperiments>();
        services.AddSingleton<ExperimentReporter>();
        services.AddSingleton<ExperimentService>();
        services.AddSingleton<ExperimentRouter>();
        services.AddSingleton<ExperimentAttribution>();
        services.AddSingleton<ExposureLog>();
        // After the store, so it stops (writing what is queued) before the store closes.
        services.AddHostedService<ExposureLogHost>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(ExperimentMetrics.MeterName).AddPrometheusExporter());
    }

    /// <summary>The growth dashboard: static files beside the host's assembly, calling the JSON API on the same origin.</summary>
    private static void MapDashboard(WebApplication app)
    {
        var files = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "Dashboard"));
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = "/dashboard" });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = "/dashboard" });
        app.MapGet("/", () => Results.Redirect("/dashboard/"));
    }
}
