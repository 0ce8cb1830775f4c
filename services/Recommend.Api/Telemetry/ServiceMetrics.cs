using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;

namespace Recommend.Api.Telemetry;

/// <summary>
/// The host's own instruments, named after the OpenTelemetry RPC conventions (rpc.server.call.duration in seconds,
/// labelled by method and status) and prefixed "recommend." for the rest. Never a user or product id as a label.
/// </summary>
public sealed class ServiceMetrics : IDisposable
{
    public const string MeterName = "Recommend.Api";

    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<double> _calls;
    private readonly Counter<long> _rejected;

    public ServiceMetrics()
    {
        _calls = _meter.CreateHistogram("rpc.server.call.duration", "s", "Duration of gRPC calls handled by the server",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _rejected = _meter.CreateCounter<long>("recommend.auth.rejected", "{call}", "Calls refused before they ran: no or unknown key, missing scope, rate limit");
        _meter.CreateObservableGauge("recommend.catalog.products", () => Volatile.Read(ref _catalogProducts), "{product}", "Products in the catalog of record");
        _meter.CreateObservableGauge("recommend.index.vectors", () => Volatile.Read(ref _indexVectors), "{vector}", "Vectors in the live index version");
        _meter.CreateObservableGauge("recommend.reindex.active_jobs", () => Volatile.Read(ref _activeReindexJobs), "{job}", "Re-index jobs not finished");
    }

    private long _catalogProducts;
    private long _indexVectors;
    private int _activeReindexJobs;

    /// <summary>What the gauges show until the next sample (<see cref="ServiceStateSampler"/>).</summary>
    public void Sampled(long catalogProducts, long indexVectors, bool reindexRunning)
    {
        Volatile.Write(ref _catalogProducts, catalogProducts);
        Volatile.Write(ref _indexVectors, indexVectors);
        Volatile.Write(ref _activeReindexJobs, reindexRunning ? 1 : 0);
    }

    public void Call(string method, StatusCode status, TimeSpan elapsed) =>
        _calls.Record(elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("rpc.system.name", "grpc"),
            new KeyValuePair<string, object?>("rpc.method", method.TrimStart('/')),
            new KeyValuePair<string, object?>("rpc.response.status_code", StatusName(status)));

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();

    /// <summary>The status as the conventions spell it: "OK", "UNAVAILABLE", "INVALID_ARGUMENT".</summary>
    public static string StatusName(StatusCode status) => status switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        _ => status.ToString().ToUpperInvariant(),
    };
}
