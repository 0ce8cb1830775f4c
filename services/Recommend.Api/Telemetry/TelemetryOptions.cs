namespace Recommend.Api.Telemetry;

/// <summary>"Recommend:Telemetry": where traces and metrics go besides /metrics, and the log format.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Recommend:Telemetry";

    /// <summary>An OTLP/gRPC collector (e.g. http://otel-collector:4317) for traces and metrics; empty exports neither.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>One JSON object per log line, with the trace and span ids; for production log pipelines.</summary>
    public bool JsonLogs { get; set; }

    /// <summary>How often the size gauges (catalog, index, re-index jobs) are sampled from the backends.</summary>
    public TimeSpan GaugeInterval { get; set; } = TimeSpan.FromSeconds(15);
}
