namespace Recommend.Core.Learning;

/// <summary>
/// One learned association: a customer who bought the source product is likely (positive weight) or unlikely (negative:
/// a substitute) to buy <see cref="ProductId"/> as well.
/// </summary>
public readonly record struct ItemNeighbour(string ProductId, float Weight);

/// <summary>What a trained model is and what it was trained on.</summary>
/// <param name="Version">Assigned by the store when the model is published; increases with every publication.</param>
/// <param name="Method">How the neighbours were learned, e.g. "ease(lambda=200, dense=3618)+knn(shrinkage=10)".</param>
/// <param name="Purchases">Purchase events in the history the model was trained on.</param>
public sealed record ItemModelInfo(
    long Version, DateTimeOffset TrainedAt, string Method, int Products, long Neighbours, long Purchases, TimeSpan TrainingTime);

/// <summary>
/// A learned item-to-item model: for each product, its top-K neighbours with weights. Immutable once built, so serving
/// reads it without locks while a newer one is trained.
/// </summary>
public sealed class ItemToItemModel
{
    private readonly Dictionary<string, ItemNeighbour[]> _neighbours;

    public ItemToItemModel(ItemModelInfo info, Dictionary<string, ItemNeighbour[]> neighbours)
    {
        Info = info;
        _neighbours = neighbours;
    }

    public ItemModelInfo Info { get; }

    /// <summary>Neighbours by descending weight, negative ones last; empty for a product the model never saw.</summary>
    public IReadOnlyList<ItemNeighbour> NeighboursOf(string productId) => _neighbours.GetValueOrDefault(productId) ?? [];

    public IReadOnlyDictionary<string, ItemNeighbour[]> Rows => _neighbours;
}

/// <summary>
/// The model the service ranks with now. Training publishes a new one and serving swaps to it in one reference write;
/// a request holds the model it started with. Null until a model has been trained (the learned source then adds nothing).
/// </summary>
public sealed class LiveItemModel
{
    private ItemToItemModel? _current;

    public ItemToItemModel? Current => Volatile.Read(ref _current);

    /// <summary>Swaps to <paramref name="model"/> unless the one serving is newer (two loaders may race).</summary>
    public bool Offer(ItemToItemModel model)
    {
        while (true)
        {
            var current = Current;
            if (current is not null && current.Info.Version >= model.Info.Version) return false;
            if (Interlocked.CompareExchange(ref _current, model, current) == current) return true;
        }
    }
}

/// <summary>Port: where trained models are kept (the history store's database), so every replica serves the same one.</summary>
public interface IItemModelStore
{
    /// <summary>The live model's description without its neighbours (cheap: replicas poll it).</summary>
    Task<ItemModelInfo?> GetLiveModelInfoAsync(CancellationToken ct);

    /// <summary>The live model with all its neighbours, or null before the first training.</summary>
    Task<ItemToItemModel?> LoadLiveModelAsync(CancellationToken ct);

    /// <summary>
    /// Stores <paramref name="model"/> as a new version and makes it live in one transaction: a training that fails or
    /// crashes before this returns leaves the previous model live and nothing half-written. Versions older than the
    /// previous one are removed. The version and info in <paramref name="model"/> are replaced by the store's.
    /// </summary>
    Task<ItemModelInfo> PublishModelAsync(ItemToItemModel model, CancellationToken ct);
}
