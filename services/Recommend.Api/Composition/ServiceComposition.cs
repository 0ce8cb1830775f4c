using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Recommend.Api.Grpc;
using Recommend.Api.Security;
using Recommend.Api.Seeding;
using Recommend.Api.Telemetry;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Experiments;
using Recommend.Core.Ranking;
using Recommend.Indexing;

namespace Recommend.Api.Composition;

/// <summary>Composes the host: backends from configuration, the core's services, gRPC, health. No business logic here.</summary>
public static class ServiceComposition
{
    private const string LivenessTag = "live";
    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(2);

    public static WebApplicationBuilder AddRecommend(this WebApplicationBuilder builder)
    {
        var options = builder.Services.AddRecommendBackends(builder.Configuration);
        if (options.Ranking.Validate() is { } problem)
            throw new OptionsValidationException("Recommend:Ranking", typeof(RankingProfile), [$"{problem.Field}: {problem.Message}"]);

        var services = builder.Services;
        var auth = AddAccessControl(builder, options);
        var tls = builder.Configuration.GetSection(TlsOptions.Section).Get<TlsOptions>() ?? new TlsOptions();
        var certificate = tls.Enabled ? LoadCertificate(tls) : null;
        var addresses = new ListenAddresses();
        services.AddSingleton(addresses);
        builder.WebHost.ConfigureKestrel(kestrel => addresses.Configure(kestrel, options.Listen, options.HttpListen, certificate));
        builder.AddRecommendTelemetry(builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions());

        services.AddSingleton(options.Ranking);
        // After the store's own hosted services, so the job host stops (leaving jobs resumable) before the store closes.
        services.AddHostedService<ReindexJobHost>();
        services.AddHostedService<ServiceStateSampler>();
        services.AddSingleton<IndexReconciler>();
        services.AddHostedService<ReconcileHost>();
        services.AddSingleton<RecommendationEngine>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<SampleSeeder>();
        services.AddHostedService(sp => sp.GetRequiredService<SampleSeeder>());
        services.AddHostedService<ItemModelHost>();
        AddExperiments(services);

        services.AddGrpc(grpc =>
        {
            // Outermost first: timing sees refusals too, access control runs before any handler, errors map last.
            grpc.Interceptors.Add<CallMetricsInterceptor>();
            grpc.Interceptors.Add<AccessInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
        }).AddJsonTranscoding(json => json.TypeRegistry = RichStatus.DetailTypes);
        if (auth.EnableReflection) services.AddGrpcReflection();
        services.AddGrpcHealthChecks(health =>
        {
            // "" (readiness): every check. "liveness": the process only, so a store outage unreadies pods
            // without restarting them.
            health.Services.Map("", _ => true);
            health.Services.Map("liveness", result => result.Tags.Contains(LivenessTag));
        })
            .AddCheck("process", () => HealthCheckResult.Healthy(), tags: [LivenessTag])
            // Bounded: a frozen backend must make the pod unready, not hang the probe.
            .AddCheck<StoreHealthCheck>("store", timeout: HealthCheckTimeout)
            .AddCheck<VectorIndexHealthCheck>("vector index", timeout: HealthCheckTimeout);
        // After every gRPC registration: it replaces the method provider they add.
        services.AnswerMalformedRequestsWithInvalidArgument();
        // grpc-dotnet logs each refused call at information level; the rate-limited warning and the metrics suffice.
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Warning);
        return builder;
    }

    public static WebApplication MapRecommend(this WebApplication app)
    {
        app.MapGrpcService<RecommendationsGrpcService>();
        app.MapGrpcService<EventsGrpcService>();
        app.MapGrpcService<CatalogGrpcService>();
        app.MapGrpcService<ExperimentsGrpcService>();
        app.MapGrpcHealthChecksService();
        var auth = app.Services.GetRequiredService<AuthOptions>();
        if (auth.EnableReflection) app.MapGrpcReflectionService();
        var keys = app.Services.GetRequiredService<ApiKeyRing>();
        if (keys.IsEmpty)
            app.Logger.LogWarning("No API keys configured (Recommend:Auth:ApiKeys): every caller that reaches the listen addresses may call every method");
        else
            app.Logger.LogInformation("API keys: {Count} configured; calls without a key are refused", keys.Count);
        var embedder = app.Services.GetRequiredService<IEmbedderProvider>().Default.Info;
        app.Logger.LogInformation("Embedder {Embedder}: model {ModelId}, dimension {Dimension}", embedder.Name, embedder.ModelId, embedder.Dimension);
        MapDashboard(app);
        app.MapPrometheusScrapingEndpoint();
        var addresses = app.Services.GetRequiredService<ListenAddresses>();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            app.Logger.LogInformation("Recommend gRPC ({Transport}) listening on {Address}", addresses.Tls ? "HTTP/2 over TLS" : "h2c, plaintext", addresses.Grpc);
            app.Logger.LogInformation("Recommend {Transport} (JSON API, /dashboard, /metrics) listening on {Address}", addresses.Tls ? "HTTPS" : "HTTP/1.1, plaintext", addresses.Http);
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
        services.AddSingleton(sp =>
        {
            var exposures = ActivatorUtilities.CreateInstance<ExposureLog>(sp);
            sp.GetRequiredService<ExperimentMetrics>().ObserveQueue(() => exposures.Queued);
            return exposures;
        });
        // After the store, so it stops (writing what is queued) before the store closes.
        services.AddHostedService<ExposureLogHost>();
    }

    /// <summary>
    /// API keys, scopes and rate limits. Without keys the host refuses to listen beyond loopback unless AllowAnonymous
    /// says so, so a forgotten Secret cannot expose the catalog's writes.
    /// </summary>
    private static AuthOptions AddAccessControl(WebApplicationBuilder builder, RecommendOptions options)
    {
        var auth = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var keys = new ApiKeyRing(auth);
        if (keys.IsEmpty && !auth.AllowAnonymous)
        {
            var exposed = new[] { ("Recommend:Listen", options.Listen), ("Recommend:HttpListen", options.HttpListen) }
                .Where(address => !ListenAddresses.IsLoopback(address.Item2, address.Item1))
                .Select(address => $"{address.Item1}={address.Item2}")
                .ToList();
            if (exposed.Count > 0)
                throw new OptionsValidationException(AuthOptions.Section, typeof(AuthOptions),
                [$"no API keys are configured, so the host only listens on loopback; {string.Join(", ", exposed)} is not. "
                    + "Configure Recommend:Auth:ApiKeys, or set Recommend:Auth:AllowAnonymous=true to serve anyone"]);
        }
        builder.Services.AddSingleton(auth);
        builder.Services.AddSingleton(keys);
        builder.Services.AddSingleton<ClientRateLimiter>();
        builder.Services.AddSingleton<AuditTrail>();
        return auth;
    }

    private static X509Certificate2 LoadCertificate(TlsOptions tls)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(tls.CertificatePath!, string.IsNullOrWhiteSpace(tls.KeyPath) ? null : tls.KeyPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new OptionsValidationException(TlsOptions.Section, typeof(TlsOptions),
                [$"{TlsOptions.Section}: cannot load the certificate {tls.CertificatePath} and key {tls.KeyPath}: {ex.Message}"]);
        }
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
