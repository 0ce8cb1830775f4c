using Microsoft.Extensions.Logging.Console;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Recommend.Api.Telemetry;

/// <summary>
/// Traces and metrics through OpenTelemetry: ASP.NET Core, HttpClient (Qdrant's REST calls, OTLP aside), Npgsql and the
/// service's own sources ("Recommend.*": ranking stages, embedding, index calls). Metrics are scraped at /metrics and,
/// like traces, pushed over OTLP when a collector is configured.
/// </summary>
internal static class TelemetryComposition
{
    public const string ServiceName = "recommend";
    private const string OwnSources = "Recommend.*";

    public static void AddRecommendTelemetry(this WebApplicationBuilder builder, TelemetryOptions options)
    {
        if (options.JsonLogs)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true; // the trace and span ids travel as a scope
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);

        var otlp = string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? null : new Uri(options.OtlpEndpoint);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ServiceMetrics>();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(OwnSources)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddMeter("System.Runtime", "Npgsql")
                    .AddPrometheusExporter();
                if (otlp is not null) metrics.AddOtlpExporter(exporter => exporter.Endpoint = otlp);
            });
        // Spans cost time on every call; they are recorded only when there is somewhere to send them.
        if (otlp is null) return;
        telemetry.WithTracing(tracing => tracing
            .AddSource(OwnSources)
            .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = http => !http.Request.Path.StartsWithSegments("/metrics"))
            .AddHttpClientInstrumentation()
            .AddNpgsql()
            .AddOtlpExporter(exporter => exporter.Endpoint = otlp));
    }
}
