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
        : this(info, Builder.Of(rows))
    {
    }

    private ItemToItemModel(ItemModelInfo info, Builder built)
    {
        Info = info;
        (_products, _positions, _rowStart, _neighbourPositions, _weights) = built.Arrays();
        SourceCount = _rowStart.Length - 1;
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

    /// <summary>
    /// Builds a model row by row straight into its flat arrays. A store loading a million rows thus leaves no row
    /// objects behind: garbage that outlives a few collections ends up in gen2, and a gen2 half free space is
    /// compacted, with every request paused while it is (docs/benchmarks.md).
    /// </summary>
    public sealed class Builder
    {
        private readonly Dictionary<string, int> _positions;
        private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _byChars;
        private readonly List<string> _products;
        /// <summary>The position (in order of first mention) of each row's source, by row.</summary>
        private readonly List<int> _rowSources;
        private readonly List<int> _rowStart;
        private int[] _neighbourPositions;
        private float[] _weights;
        private int _entries;
        private bool _built;

        /// <param name="sources">Expected rows, and <paramref name="entries"/> neighbours over all of them: the arrays are
        /// sized for them and grow beyond.</param>
        public Builder(int sources, long entries)
        {
            sources = Math.Clamp(sources, 0, 1 << 24);
            _positions = new Dictionary<string, int>(sources, StringComparer.Ordinal);
            _byChars = _positions.GetAlternateLookup<ReadOnlySpan<char>>();
            _products = new List<string>(sources);
            _rowSources = new List<int>(sources);
            _rowStart = new List<int>(sources + 1);
            // A size hint only (a stored model's description): a wrong one costs a copy, never a failure.
            var expected = (int)Math.Clamp(entries, 0, 1 << 28);
            _neighbourPositions = new int[expected];
            _weights = new float[expected];
        }

        internal static Builder Of(IReadOnlyDictionary<string, ItemNeighbour[]> rows)
        {
            var builder = new Builder(rows.Count, rows.Values.Sum(row => (long)row.Length));
            foreach (var (source, row) in rows)
            {
                builder.StartRow(source);
                foreach (var neighbour in row) builder.Add(neighbour.ProductId, neighbour.Weight);
            }
            return builder;
        }

        /// <summary>Starts the source's row: the neighbours added next are its own, by descending weight, negative ones last.</summary>
        public void StartRow(string source)
        {
            _rowSources.Add(PositionOf(source, source));
            _rowStart.Add(_entries);
        }

        public void Add(ReadOnlySpan<char> productId, float weight) => Add(productId, null, weight);

        /// <summary>As the span overload, keeping <paramref name="productId"/> itself when the id is new.</summary>
        public void Add(string productId, float weight) => Add(productId, productId, weight);

        private void Add(ReadOnlySpan<char> productId, string? asString, float weight)
        {
            if (_rowStart.Count == 0) throw new InvalidOperationException("Start a row before adding neighbours to it.");
            if (_entries == _neighbourPositions.Length)
            {
                var grown = Math.Max(16, _entries * 2);
                Array.Resize(ref _neighbourPositions, grown);
                Array.Resize(ref _weights, grown);
            }
            _neighbourPositions[_entries] = PositionOf(productId, asString);
            _weights[_entries++] = weight;
        }

        public ItemToItemModel Build(ItemModelInfo info) => new(info, this);

        /// <param name="asString">The id as a string already, kept instead of a copy when the id is new.</param>
        private int PositionOf(ReadOnlySpan<char> productId, string? asString)
        {
            if (_byChars.TryGetValue(productId, out var position)) return position;
            var id = asString ?? productId.ToString();
            _positions.Add(id, _products.Count);
            _products.Add(id);
            return _products.Count - 1;
        }

        /// <summary>Renumbers the products so that sources come first in row order (a row's position is its source's).</summary>
        internal (string[] Products, Dictionary<string, int> Positions, int[] RowStart, int[] Neighbours, float[] Weights) Arrays()
        {
            if (_built) throw new InvalidOperationException("A builder builds one model.");
            _built = true;
            var renumbered = new int[_products.Count];
            Array.Fill(renumbered, -1);
            for (var row = 0; row < _rowSources.Count; row++)
            {
                ref var position = ref renumbered[_rowSources[row]];
                if (position >= 0) throw new InvalidOperationException($"Product '{_products[_rowSources[row]]}' has two rows.");
                position = row;
            }
            var next = _rowSources.Count;
            for (var p = 0; p < renumbered.Length; p++)
                if (renumbered[p] < 0) renumbered[p] = next++;
            var products = new string[_products.Count];
            for (var p = 0; p < products.Length; p++)
            {
                products[renumbered[p]] = _products[p];
                System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_positions, _products[p]) = renumbered[p];
            }
            for (var i = 0; i < _entries; i++) _neighbourPositions[i] = renumbered[_neighbourPositions[i]];
            if (_entries < _neighbourPositions.Length)
            {
                Array.Resize(ref _neighbourPositions, _entries);
                Array.Resize(ref _weights, _entries);
            }
            _rowStart.Add(_entries);
            return (products, _positions, [.. _rowStart], _neighbourPositions, _weights);
        }
    }
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
