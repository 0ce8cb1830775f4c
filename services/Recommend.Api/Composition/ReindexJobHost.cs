using Recommend.Core.Catalog;
using Recommend.Indexing;

namespace Recommend.Api.Composition;

/// <summary>
/// Runs re-indexing jobs in the host: once the store is connected it takes over, now and then, any unfinished job whose
/// runner's lease has expired (this process before a restart, or a replica that died). On shutdown it stops local
/// runs without marking them, so they resume from their checkpoints.
/// </summary>
internal sealed class ReindexJobHost(IStoreReadiness store, ReindexService reindex, ReindexOptions options, ILogger<ReindexJobHost> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await store.WhenReadyAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.LeaseDuration / 2);
        do
        {
            try
            {
                await reindex.ResumeAbandonedAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not look for interrupted reindex jobs; trying again in {Interval}", options.LeaseDuration / 2);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await reindex.DisposeAsync();
    }
}
