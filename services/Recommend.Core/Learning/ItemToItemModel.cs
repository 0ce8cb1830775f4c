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
/// reads it without locks while a newer one is trained. Held as flat arrays over product positions (each id once), so a
/// million-product model is a few arrays the collector never has to trace, not fifty million id references.
/// </summary>
public sealed class ItemToItemModel
{
    private readonly string[] _products;
    private readonly Dictionary<string, int> _positions;
    /// <summary>Row of the product at position p: entries [_rowStart[p], _rowStart[p + 1]) of the two arrays below.</summary>
    private readonly int[] _rowStart;
    private readonly int[] _neighbourPositions;
    private readonly float[] _weights;

    public ItemToItemModel(ItemModelInfo info, IReadOnlyDictionary<string, ItemNeighbour[]> rows)
    {
        Info = info;
        _positions = new Dictionary<string, int>(rows.Count, StringComparer.Ordinal);
        var products = new List<string>(rows.Count);
        int PositionOf(string id)
        {
            ref var position = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_positions, id, out var known);
            if (!known)
            {
                position = products.Count;
                products.Add(id);
            }
            return position;
        }
        // Sources first, in the given order, so a row's position is its source's.
        foreach (var source in rows.Keys) PositionOf(source);
        SourceCount = products.Count;
        _rowStart = new int[SourceCount + 1];
        var entries = 0L;
        foreach (var row in rows.Values) entries += row.Length;
        _neighbourPositions = new int[entries];
        _weights = new float[entries];
        var next = 0;
        foreach (var (source, row) in rows)
        {
            _rowStart[_positions[source]] = next;
            foreach (var neighbour in row)
            {
                _neighbourPositions[next] = PositionOf(neighbour.ProductId);
                _weights[next++] = neighbour.Weight;
            }
        }
        _rowStart[SourceCount] = next;
        _products = [.. products];
    }

    private ItemToItemModel(ItemModelInfo info, ItemToItemModel rows)
    {
        Info = info;
        (_products, _positions, _rowStart, _neighbourPositions, _weights, SourceCount) =
            (rows._products, rows._positions, rows._rowStart, rows._neighbourPositions, rows._weights, rows.SourceCount);
    }

    /// <summary>The same neighbours under another description (the one the store assigned on publication).</summary>
    public ItemToItemModel WithInfo(ItemModelInfo info) => new(info, this);

    public ItemModelInfo Info { get; }

    /// <summary>Products with neighbours.</summary>
    public int SourceCount { get; }

    public IEnumerable<string> Sources => _products.Take(SourceCount);

    /// <summary>Products the model names, as sources or neighbours: positions run from 0 to this − 1.</summary>
    public int Size => _products.Length;

    public string ProductAt(int position) => _products[position];

    /// <summary>The source's neighbours as positions and weights, by descending weight, negative ones last; false for a product without a row.</summary>
    public bool TryGetRow(string productId, out ReadOnlySpan<int> neighbours, out ReadOnlySpan<float> weights)
    {
        if (!_positions.TryGetValue(productId, out var position) || position >= SourceCount)
        {
            neighbours = default;
            weights = default;
            return false;
        }
        var (start, end) = (_rowStart[position], _rowStart[position + 1]);
        neighbours = _neighbourPositions.AsSpan(start, end - start);
        weights = _weights.AsSpan(start, end - start);
        return true;
    }

    /// <summary>Neighbours by descending weight, negative ones last; empty for a product the model never saw.</summary>
    public IReadOnlyList<ItemNeighbour> NeighboursOf(string productId)
    {
        if (!TryGetRow(productId, out var positions, out var weights)) return [];
        var row = new ItemNeighbour[positions.Length];
        for (var i = 0; i < row.Length; i++) row[i] = new ItemNeighbour(_products[positions[i]], weights[i]);
        return row;
    }

    /// <summary>Every source with its neighbours, for storing the model.</summary>
    public IEnumerable<(string ProductId, IReadOnlyList<ItemNeighbour> Neighbours)> Rows => Sources.Select(id => (id, NeighboursOf(id)));
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
