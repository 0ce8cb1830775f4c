using Recommend.Core.History;

namespace Recommend.Core.Ranking;

/// <summary>
/// The shop-wide trending list every personalised answer blends in, read from the store at most once per
/// <see cref="MaxAge"/> and shared by the calls in between: popularity decays over days, so a list a second old ranks
/// the same, and reading it per call was 8 % of a <c>Recommend</c> call's CPU at 1 M products. The <c>Trending</c> call
/// itself still reads the store every time.
/// </summary>
internal sealed class SharedTrending(IHistoryStore history, TimeProvider time)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private sealed record Snapshot(IReadOnlyList<TrendingProduct> Products, int Limit, long ReadAt);

    private Snapshot? _latest;

    public async Task<IReadOnlyList<TrendingProduct>> GetAsync(int limit, CancellationToken ct)
    {
        var latest = Volatile.Read(ref _latest);
        if (latest is not null && latest.Limit == limit && time.GetElapsedTime(latest.ReadAt) < MaxAge)
            return latest.Products;
        var readAt = time.GetTimestamp();
        var products = await history.GetTrendingAsync(null, limit, ct);
        Volatile.Write(ref _latest, new Snapshot(products, limit, readAt));
        return products;
    }
}
