using Recommend.Core.Catalog;
using Recommend.Core.Experiments;

namespace Recommend.Api.Composition;

/// <summary>Runs the exposure log's flush loop once the store is ready; on shutdown it writes what is still queued.</summary>
internal sealed class ExposureLogHost(IStoreReadiness store, ExposureLog exposures) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await store.WhenReadyAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // stopped before the store was ready: the queue is drained below all the same
        }
        await exposures.RunAsync(stoppingToken);
    }
}
