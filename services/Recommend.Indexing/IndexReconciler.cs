using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Recommend.Core.Catalog;
using Recommend.Core.Vectors;

namespace Recommend.Indexing;

/// <summary>What one reconciliation found and fixed.</summary>
public sealed record ReconcileResult(long Checked, long Indexed, long Removed, bool Skipped);

/// <summary>
/// Finds where the store and the live index disagree — what a crash between a catalog write's two steps leaves, or
/// replicas racing on one product — and repairs it through <see cref="CatalogService.RepairAsync"/>: every store
/// product must have a vector, and every vector in the ledger a product. Skipped while a re-index builds a version (its
/// own reconcile pass covers it).
/// </summary>
/// <remarks>
/// It runs beside serving, hourly and at start-up, over the whole catalog (minutes of a core at a million products), so
/// it reads without locks, hands only the disagreeing ids to the locked repair, and rests <see cref="RestFactor"/> times
/// as long as each page took: it never holds more than about a third of a core.
/// </remarks>
public sealed class IndexReconciler(
    ICatalogStore store, IVectorIndex index, IContentHashLedger ledger, IActiveIndexBuild builds, CatalogService catalog, ILogger<IndexReconciler> logger)
{
    private const int Page = 500;
    private const string NeverMarked = "reconcile/none";

    /// <summary>Rest after each page, as a multiple of the time the page took.</summary>
    public const double RestFactor = 2;

    public async Task<ReconcileResult> RunAsync(CancellationToken ct)
    {
        if (await builds.GetAsync(ct) is not null || await index.GetLiveVersionAsync(ct) is not { } live) return new ReconcileResult(0, 0, 0, Skipped: true);
        long checkedIds = 0, indexed = 0, removed = 0;

        // Store → index: products without a vector. The unlocked look only narrows the page down: the repair reads both
        // sides again under the ids' write locks before it changes anything.
        var batch = new List<string>(Page);
        var clock = Stopwatch.StartNew();
        var passClock = Stopwatch.StartNew();
        async Task CheckStorePageAsync()
        {
            var indexedIds = await index.FindIndexedAsync(batch, ct);
            var missing = batch.Where(id => !indexedIds.Contains(id)).ToList();
            if (missing.Count > 0) (indexed, removed) = Add(await catalog.RepairAsync(missing, ct), indexed, removed);
            checkedIds += batch.Count;
            batch.Clear();
            await RestAsync(clock, ct);
        }
        await foreach (var product in store.ScanProductsAsync(ct))
        {
            batch.Add(product.Id);
            if (batch.Count == Page) await CheckStorePageAsync();
        }
        if (batch.Count > 0) await CheckStorePageAsync();

        // Index → store: vectors (listed by the ledger, which outlives them) whose product is gone.
        string? after = null;
        while (await ledger.ListUnmarkedProductsAsync(live.Name, NeverMarked, after, Page, ct) is { Count: > 0 } page)
        {
            after = page[^1];
            var present = await store.GetProductsAsync(page, ct);
            var orphans = page.Where(id => !present.ContainsKey(id)).ToList();
            if (orphans.Count > 0) (indexed, removed) = Add(await catalog.RepairAsync(orphans, ct), indexed, removed);
            await RestAsync(clock, ct);
        }

        if (indexed + removed > 0)
            logger.LogWarning("Reconciled the store and index version {Version}: indexed {Indexed} products that had no vector, removed {Removed} vectors without a product",
                live.Name, indexed, removed);
        logger.LogInformation("Reconcile pass over index version {Version} checked {Checked} products in {Seconds:F0} s",
            live.Name, checkedIds, passClock.Elapsed.TotalSeconds);
        return new ReconcileResult(checkedIds, indexed, removed, Skipped: false);
    }

    /// <summary>Rests <see cref="RestFactor"/> times the work since the last rest, then restarts the clock.</summary>
    private static async Task RestAsync(Stopwatch clock, CancellationToken ct)
    {
        await Task.Delay(clock.Elapsed * RestFactor, ct);
        clock.Restart();
    }

    private static (long, long) Add((int Indexed, int Removed) repaired, long indexed, long removed) =>
        (indexed + repaired.Indexed, removed + repaired.Removed);
}
