using Recommend.Core.Catalog;
using Recommend.Indexing;

namespace Recommend.Api.Composition;

/// <summary>
/// Repairs drift between store and live index at start-up (a crash mid-write leaves it) and then every
/// Recommend:Reindex:ReconcileInterval (replicas racing on one product can leave it too).
/// </summary>
internal sealed class ReconcileHost(IStoreReadiness store, IndexReconciler reconciler, ReindexOptions options, ILogger<ReconcileHost> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ReconcileInterval <= TimeSpan.Zero) return;
        try
        {
            await store.WhenReadyAsync(stoppingToken);
            using var timer = new PeriodicTimer(options.ReconcileInterval);
            do
            {
                try
                {
                    await reconciler.RunAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Could not reconcile the store and the index; trying again in {Interval}", options.ReconcileInterval);
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
