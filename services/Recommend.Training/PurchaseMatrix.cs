using Recommend.Core.History;

namespace Recommend.Training;

/// <summary>
/// The binary user × item matrix models learn from, held sparsely: for each user the items they bought (indices into
/// <see cref="Items"/>), their most recent <see cref="TrainingOptions.MaxItemsPerUser"/> at most.
/// </summary>
public sealed class PurchaseMatrix
{
    private PurchaseMatrix(IReadOnlyList<string> items, IReadOnlyList<int[]> users, long purchases)
    {
        Items = items;
        Users = users;
        Purchases = purchases;
    }

    public IReadOnlyList<string> Items { get; }

    /// <summary>Per user, the item indices bought, ascending.</summary>
    public IReadOnlyList<int[]> Users { get; }

    /// <summary>Purchase events behind the matrix.</summary>
    public long Purchases { get; }

    /// <summary>Builds the matrix from summaries grouped by user, as <see cref="IHistoryStore.ReadPurchaseSummariesAsync"/> streams them.</summary>
    public static async Task<PurchaseMatrix> BuildAsync(IAsyncEnumerable<PurchaseSummary> summaries, int maxItemsPerUser, CancellationToken ct)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = new List<string>();
        var users = new List<int[]>();
        var current = new List<PurchaseSummary>();
        long purchases = 0;
        string? user = null;

        void Flush()
        {
            if (current.Count == 0) return;
            var kept = current.Count <= maxItemsPerUser ? current : current.OrderByDescending(s => s.LastPurchasedAt).Take(maxItemsPerUser).ToList();
            var row = new int[kept.Count];
            for (var k = 0; k < kept.Count; k++)
            {
                if (!index.TryGetValue(kept[k].ProductId, out var item))
                {
                    index[kept[k].ProductId] = item = items.Count;
                    items.Add(kept[k].ProductId);
                }
                row[k] = item;
            }
            Array.Sort(row);
            users.Add(row);
            current.Clear();
        }

        await foreach (var summary in summaries.WithCancellation(ct))
        {
            if (!string.Equals(summary.UserId, user, StringComparison.Ordinal))
            {
                Flush();
                user = summary.UserId;
            }
            current.Add(summary);
            purchases += summary.Purchases;
        }
        Flush();
        return new PurchaseMatrix(items, users, purchases);
    }
}
