namespace Recommend.Postgres.Tests;

internal static class UpdaterDrain
{
    /// <summary>Applies batches until the queue is empty; returns how many items that took.</summary>
    public static async Task<int> DrainAsync(this CoPurchaseUpdater updater, CancellationToken ct = default)
    {
        var total = 0;
        for (int applied; (applied = await updater.ProcessPendingAsync(ct)) > 0;) total += applied;
        return total;
    }
}
