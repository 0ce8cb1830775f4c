using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.History;
using Recommend.Core.Ranking;
using Recommend.Core.Reindexing;
using Recommend.Core.Vectors;

namespace Recommend.Composition;

/// <summary>
/// The store as the rest of the host sees it: calls fail with UNAVAILABLE until <see cref="StoreConnector"/> has
/// connected, so the server can listen (and report NOT_SERVING) while a database is still unreachable.
/// </summary>
public sealed class DeferredStore : ICatalogStore, IHistoryStore, IEmbeddingCache, IReindexJobStore
{
    private readonly TaskCompletionSource<Backend> connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Backend(ICatalogStore Catalog, IHistoryStore History, IEmbeddingCache Cache, IReindexJobStore Jobs, string Name);

    public Task WhenConnected => connected.Task;

    public bool IsConnected => connected.Task.IsCompletedSuccessfully;

    /// <summary>Provider name for status output, e.g. "sqlite".</summary>
    public string Name => IsConnected ? connected.Task.Result.Name : "connecting";

    public void Connect<TStore>(TStore store, string name) where TStore : ICatalogStore, IHistoryStore, IEmbeddingCache, IReindexJobStore =>
        connected.TrySetResult(new Backend(store, store, store, store, name));

    private Backend Current => IsConnected
        ? connected.Task.Result
        : throw new DependencyUnavailableException("store", "The store is not connected yet; retrying in the background.");

    public Task UpsertProductsAsync(IReadOnlyList<Product> products, CancellationToken ct) => Current.Catalog.UpsertProductsAsync(products, ct);
    public Task<int> DeleteProductsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct) => Current.Catalog.DeleteProductsAsync(productIds, ct);
    public Task<IReadOnlyDictionary<string, Product>> GetProductsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct) => Current.Catalog.GetProductsAsync(productIds, ct);
    public Task<long> CountProductsAsync(CancellationToken ct) => Current.Catalog.CountProductsAsync(ct);
    public IAsyncEnumerable<Product> ScanProductsAsync(CancellationToken ct) => Current.Catalog.ScanProductsAsync(ct);

    public Task<RecordResult> RecordEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken ct) => Current.History.RecordEventsAsync(events, ct);
    public Task<IReadOnlyList<Interaction>> GetRecentInteractionsAsync(string userId, int limit, CancellationToken ct) => Current.History.GetRecentInteractionsAsync(userId, limit, ct);
    public Task<IReadOnlySet<string>> GetPurchasedProductIdsAsync(string userId, CancellationToken ct) => Current.History.GetPurchasedProductIdsAsync(userId, ct);
    public Task<IReadOnlyList<CoPurchase>> GetCoPurchasesAsync(IReadOnlyCollection<string> productIds, int limitPerProduct, CancellationToken ct) => Current.History.GetCoPurchasesAsync(productIds, limitPerProduct, ct);
    public Task<IReadOnlyList<TrendingProduct>> GetTrendingAsync(string? category, int limit, CancellationToken ct) => Current.History.GetTrendingAsync(category, limit, ct);

    public Task<IReadOnlyDictionary<string, float[]>> GetEmbeddingsAsync(IndexSpec spec, IReadOnlyCollection<string> textHashes, CancellationToken ct) => Current.Cache.GetEmbeddingsAsync(spec, textHashes, ct);
    public Task PutEmbeddingsAsync(IndexSpec spec, IReadOnlyList<KeyValuePair<string, float[]>> vectorsByTextHash, CancellationToken ct) => Current.Cache.PutEmbeddingsAsync(spec, vectorsByTextHash, ct);

    public Task CreateJobAsync(ReindexJob job, CancellationToken ct) => Current.Jobs.CreateJobAsync(job, ct);
    public Task<ReindexJob?> GetJobAsync(string jobId, CancellationToken ct) => Current.Jobs.GetJobAsync(jobId, ct);
    public Task<ReindexJob?> GetActiveJobAsync(CancellationToken ct) => Current.Jobs.GetActiveJobAsync(ct);
    public Task<ReindexJob> CreateOrJoinShardedJobAsync(ReindexJob job, CancellationToken ct) => Current.Jobs.CreateOrJoinShardedJobAsync(job, ct);
    public Task<IReadOnlyList<ReindexShard>> GetShardsAsync(string jobId, CancellationToken ct) => Current.Jobs.GetShardsAsync(jobId, ct);
    public Task<ReindexShard?> TryClaimShardAsync(string jobId, int shardIndex, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct) => Current.Jobs.TryClaimShardAsync(jobId, shardIndex, owner, now, leaseUntil, ct);
    public Task<LeaseStatus?> RenewShardLeaseAsync(string jobId, int shardIndex, string owner, DateTimeOffset leaseUntil, CancellationToken ct) => Current.Jobs.RenewShardLeaseAsync(jobId, shardIndex, owner, leaseUntil, ct);
    public Task<bool> SaveShardAsync(ReindexShard shard, JobBatch? batch, CancellationToken ct) => Current.Jobs.SaveShardAsync(shard, batch, ct);
    public Task<bool> EndJobAsync(string jobId, ReindexState state, string error, DateTimeOffset finishedAt, CancellationToken ct) => Current.Jobs.EndJobAsync(jobId, state, error, finishedAt, ct);
    public Task<ReindexJob?> TryClaimActiveJobAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct) => Current.Jobs.TryClaimActiveJobAsync(owner, now, leaseUntil, ct);
    public Task<LeaseStatus?> RenewLeaseAsync(string jobId, string owner, DateTimeOffset leaseUntil, CancellationToken ct) => Current.Jobs.RenewLeaseAsync(jobId, owner, leaseUntil, ct);
    public Task<bool> SaveJobAsync(ReindexJob job, JobBatch? batch, CancellationToken ct) => Current.Jobs.SaveJobAsync(job, batch, ct);
    public Task<bool> RequestCancelAsync(string jobId, CancellationToken ct) => Current.Jobs.RequestCancelAsync(jobId, ct);
    public Task<IReadOnlyList<SourceRowError>> GetBadRowsAsync(string jobId, int limit, CancellationToken ct) => Current.Jobs.GetBadRowsAsync(jobId, limit, ct);
    public Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct) => Current.Jobs.GetContentHashesAsync(version, productIds, ct);
    public Task PutContentHashesAsync(string version, IReadOnlyList<ContentHash> hashes, CancellationToken ct) => Current.Jobs.PutContentHashesAsync(version, hashes, ct);
    public Task<IReadOnlyList<string>> ListUnmarkedProductsAsync(string version, string mark, string? afterId, int limit, CancellationToken ct) => Current.Jobs.ListUnmarkedProductsAsync(version, mark, afterId, limit, ct);
    public Task DeleteContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct) => Current.Jobs.DeleteContentHashesAsync(version, productIds, ct);
    public Task<long> CountContentHashesAsync(string version, CancellationToken ct) => Current.Jobs.CountContentHashesAsync(version, ct);
    public Task DropContentHashesAsync(string version, CancellationToken ct) => Current.Jobs.DropContentHashesAsync(version, ct);
}
