using Microsoft.Extensions.Diagnostics.HealthChecks;
using Recommend.Api.Seeding;
using Recommend.Core.Catalog;

namespace Recommend.Api.Composition;

/// <summary>Ready when the store is connected and answers, and the first-start seeding (if any) is done.</summary>
internal sealed class StoreHealthCheck(IStoreReadiness store, SampleSeeder seeder) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!store.IsReady) return HealthCheckResult.Unhealthy("store not connected yet");
        if (!seeder.IsFinished) return HealthCheckResult.Unhealthy("loading the bundled sample");
        try
        {
            await store.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("store unreachable", ex);
        }
    }
}
