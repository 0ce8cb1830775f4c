using Grpc.Core;
using Proto = Recommend.Contracts.V1;

namespace Recommend.Api.Security;

/// <summary>
/// One log line (category Recommend.Audit) per call that changes the catalog, the index or an experiment: the key's
/// name, the method, the outcome and counts. Never the key, never product data.
/// </summary>
internal sealed class AuditTrail(ILoggerFactory loggers)
{
    private readonly ILogger _log = loggers.CreateLogger("Recommend.Audit");

    private static readonly HashSet<string> Audited = new(StringComparer.Ordinal)
    {
        "/recommend.v1.Catalog/UpsertProducts", "/recommend.v1.Catalog/DeleteProducts", "/recommend.v1.Catalog/StartReindex",
        "/recommend.v1.Catalog/CancelReindex", "/recommend.v1.Catalog/RollbackIndex",
        "/recommend.v1.Experiments/CreateExperiment", "/recommend.v1.Experiments/StartExperiment", "/recommend.v1.Experiments/StopExperiment",
    };

    public void Succeeded(ApiClient? client, string method, object? request, object? response)
    {
        if (client is null || !Audited.Contains(method)) return;
        _log.LogInformation("Audit: {Client} called {Method}: OK, {Detail}", client.Name, method.TrimStart('/'), Describe(request, response));
    }

    public void Failed(ApiClient? client, string method, object? request, Exception error)
    {
        if (client is null || !Audited.Contains(method)) return;
        var status = error is RpcException rpc ? rpc.StatusCode.ToString() : "failed";
        _log.LogInformation("Audit: {Client} called {Method}: {Outcome}, {Detail}", client.Name, method.TrimStart('/'), status, Describe(request, null));
    }

    public void Denied(ApiClient client, string method, Scope needed)
    {
        if (!Audited.Contains(method)) return;
        _log.LogWarning("Audit: {Client} called {Method}: denied, needs scope {Scope}", client.Name, method.TrimStart('/'), needed.Name());
    }

    private static string Describe(object? request, object? response) => (request, response) switch
    {
        (_, Proto.UpsertProductsResponse r) => $"upserted={r.Upserted}",
        (Proto.DeleteProductsRequest q, Proto.DeleteProductsResponse r) => $"requested={q.ProductIds.Count} deleted={r.Deleted}",
        (Proto.DeleteProductsRequest q, _) => $"requested={q.ProductIds.Count}",
        (Proto.StartReindexRequest q, Proto.StartReindexResponse r) => $"mode={q.Mode} job={r.JobId}",
        (Proto.StartReindexRequest q, _) => $"mode={q.Mode}",
        (Proto.CancelReindexRequest q, _) => $"job={Short(q.JobId)}",
        (Proto.RollbackIndexRequest q, Proto.IndexStatus r) => $"requested={Short(q.Version)} live={r.Live?.Name}",
        (Proto.RollbackIndexRequest q, _) => $"requested={Short(q.Version)}",
        (_, Proto.Experiment r) => $"experiment={r.ExperimentId} status={r.Status}",
        (Proto.StartExperimentRequest q, _) => $"experiment={Short(q.ExperimentId)}",
        (Proto.StopExperimentRequest q, _) => $"experiment={Short(q.ExperimentId)}",
        _ => "",
    };

    /// <summary>Ids a client sent are logged only up to a length, so a failed call cannot flood the audit log.</summary>
    private static string Short(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
