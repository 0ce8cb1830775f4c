using Microsoft.Extensions.Diagnostics.HealthChecks;
using Recommend.Core.Vectors;

namespace Recommend.Api.Composition;

/// <summary>Ready only while the vector index answers: with Qdrant unreachable, similar products and search cannot be served.</summary>
internal sealed class VectorIndexHealthCheck(IVectorIndex index) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await index.GetLiveVersionAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("vector index unreachable", ex);
        }
    }
}
