using System.Diagnostics;
using Microsoft.Extensions.Options;
using Recommend.Core.Catalog;
using Recommend.Core.History;
using Recommend.SampleData;

namespace Recommend.Api.Seeding;

/// <summary>
/// Once the store is connected and the catalog is empty, loads the bundled sample so a newcomer sees real
/// recommendations. The host reports NOT_SERVING until this has finished. Disabled with Recommend:SeedSample=false.
/// </summary>
internal sealed class SampleSeeder(
    IOptions<RecommendOptions> options, IStoreReadiness store, ICatalogStore products, IHistoryStore history, CatalogService catalog,
    ILogger<SampleSeeder> logger)
    : BackgroundService
{
    private const int ProductBatch = 500;
    private const int EventBatch = 10_000; // SQLite commits are cheaper per event in large batches
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsFinished => finished.Task.IsCompletedSuccessfully;

    /// <summary>Completes once the sample is loaded or there was nothing to load.</summary>
    public Task Finished => finished.Task;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        await store.WhenReadyAsync(ct);
        if (options.Value.SeedSample && await products.CountProductsAsync(ct) == 0) await SeedAsync(ct);
        finished.TrySetResult();
    }

    private async Task SeedAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var sample = SampleCatalog.Products();
        foreach (var batch in sample.Chunk(ProductBatch)) await catalog.UpsertAsync(batch, ct);

        var events = 0;
        var pending = new List<UserEvent>(EventBatch);
        await foreach (var purchase in SampleCatalog.PurchasesAsync(ct))
        {
            pending.Add(purchase);
            if (pending.Count < EventBatch) continue;
            events += (await history.RecordEventsAsync(pending, ct)).Accepted;
            pending.Clear();
        }
        events += (await history.RecordEventsAsync(pending, ct)).Accepted;
        // Bulk batches have their pairs counted after the commit: the seeded host serves complete counts from the start.
        await history.SettleCoPurchasesAsync(ct);
        logger.LogInformation("Seeded the bundled UCI Online Retail sample: {Products} products, {Events} purchases in {Seconds:F1} s",
            sample.Count, events, clock.Elapsed.TotalSeconds);
    }
}
