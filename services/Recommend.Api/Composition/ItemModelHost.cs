using Recommend.Api.Seeding;
using Recommend.Core.Catalog;
using Recommend.Training;

namespace Recommend.Api.Composition;

/// <summary>
/// Keeps the learned model current: every CheckInterval it loads a newer published version (from a CronJob or another
/// replica) and, when training in the host is on and due, trains one — off the request path, on the solver's threads.
/// After the sample is seeded, so the first model sees the whole sample.
/// </summary>
internal sealed class ItemModelHost(
    ItemModelTrainer trainer, TrainingOptions options, IStoreReadiness store, SampleSeeder seeder, ILogger<ItemModelHost> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await store.WhenReadyAsync(stoppingToken);
            await seeder.Finished.WaitAsync(stoppingToken);
            using var timer = new PeriodicTimer(options.CheckInterval);
            do
            {
                try
                {
                    var swapped = await trainer.RefreshAsync(stoppingToken);
                    if (options.InHost && await trainer.IsDueAsync(stoppingToken)) swapped |= await trainer.TrainAsync(null, stoppingToken) is not null;
                    // Training's matrices and the replaced model are dead but old: only a full collection frees them,
                    // and serving alone may not cause one for hours. A background one returns the memory meanwhile.
                    if (swapped) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The model serving stays; the next tick tries again.
                    logger.LogWarning(ex, "Could not refresh or train the item-to-item model");
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
