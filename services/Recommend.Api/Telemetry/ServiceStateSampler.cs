using Recommend.Core.Catalog;
using Recommend.Core.Vectors;
using Recommend.Indexing;

namespace Recommend.Api.Telemetry;

/// <summary>
/// Samples what the gauges show — catalog size, live index size, whether a re-index runs — every GaugeInterval, off the request
/// path: a scrape never waits on the store. A failed sample keeps the last values (the outage shows elsewhere).
/// </summary>
internal sealed class ServiceStateSampler(
    IStoreReadiness store, ICatalogStore catalog, IVectorIndex index, ReindexService reindex, ServiceMetrics metrics, TelemetryOptions options,
    ILogger<ServiceStateSampler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await store.WhenReadyAsync(stoppingToken);
            using var timer = new PeriodicTimer(options.GaugeInterval);
            do
            {
                try
                {
                    var live = await index.GetLiveVersionAsync(stoppingToken);
                    metrics.Sampled(
                        await catalog.CountProductsAsync(stoppingToken),
                        live is null ? 0 : await index.CountAsync(live.Name, stoppingToken),
                        await reindex.IsReindexingAsync(stoppingToken));
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // A store timeout surfaces as a cancellation too; only the host stopping ends the sampling.
                    logger.LogDebug(ex, "Could not sample the service state for metrics");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
