using System.Buffers;
using System.Numerics.Tensors;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex.Graph;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// One version's rows in memory: unit vectors in one contiguous matrix (a row per product) beside parallel payload
/// arrays. Deletes move the last row into the hole, so rows stay dense and a search is one pass over the matrix.
/// Searches share a read lock; writes take the write lock, so a search sees a batch entirely or not at all.
/// Products are also grouped by category, so a search confined to a few small categories reads only their rows.
/// </summary>
internal sealed class VectorMatrix(int dimension, VectorPrecision precision = VectorPrecision.F32) : IDisposable
{
    private const int InitialCapacity = 64;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> _rowOf = new(StringComparer.Ordinal);
    // Rows per category (row numbers, kept right when a delete moves a row), so a category scan reads no other row.
    private readonly Dictionary<string, CategoryRows> _inCategory = new(StringComparer.Ordinal);
    private readonly RowVectors _vectors = new(dimension, precision, InitialCapacity);
    private string[] _ids = new string[InitialCapacity];
    private string[] _categories = new string[InitialCapacity];
    private double[] _prices = new double[InitialCapacity];
    private bool[] _inStock = new bool[InitialCapacity];
    private readonly Utf8Texts _titles = new(InitialCapacity);
    private int _count;

    public int Dimension { get; } = dimension;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Inserts or replaces by product id; vectors must already be unit length.</summary>
    public void Upsert(IReadOnlyList<VectorRecord> unitRecords)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var record in unitRecords)
            {
                if (!_rowOf.TryGetValue(record.ProductId, out var row))
                {
                    EnsureCapacity(_count + 1);
                    row = _count++;
                    _rowOf.Add(record.ProductId, row);
                    _categories[row] = JoinCategory(row, record.Category);
                }
                else if (!string.Equals(_categories[row], record.Category, StringComparison.Ordinal))
                {
                    LeaveCategory(row, _categories[row]);
                    _categories[row] = JoinCategory(row, record.Category);
                }
                _vectors.Write(row, record.Vector);
                _ids[row] = record.ProductId;
                _prices[row] = record.Price;
                _inStock[row] = record.InStock;
                _titles.Set(row, record.Title);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public void Remove(IEnumerable<string> productIds)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var productId in productIds)
            {
                if (!_rowOf.Remove(productId, out var row))
                    continue;
                LeaveCategory(row, _categories[row]);
                var last = --_count;
                if (row != last)
                {
                    LeaveCategory(last, _categories[last]);
                    MoveRow(last, row);
                    JoinCategory(row, _categories[row]);
                }
                // Release the strings of the vacated row to the GC.
                Array.Clear(_ids, last, 1);
                Array.Clear(_categories, last, 1);
                _titles.Clear(last);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public bool Contains(string productId)
    {
        _lock.EnterReadLock();
        try
        {
            return _rowOf.ContainsKey(productId);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The rows' own copy of the product id, or the id itself: a structure keyed by id shares it instead of holding another.</summary>
    public string SharedId(string productId)
    {
        _lock.EnterReadLock();
        try
        {
            return _rowOf.TryGetValue(productId, out var row) ? _ids[row] : productId;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The product's row, or −1. Rows only move when a delete fills a hole with the last row.</summary>
    public int RowOf(string productId)
    {
        _lock.EnterReadLock();
        try
        {
            return _rowOf.GetValueOrDefault(productId, -1);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Exact cosine search. <paramref name="unitQuery"/> must be unit length, so the dot product is the cosine.</summary>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> unitQuery, int limit, ProductFilter filter)
    {
        var top = new TopHits(limit);
        var scratch = _vectors.NewScratch();
        _lock.EnterReadLock();
        try
        {
            for (var row = 0; row < _count; row++)
                Consider(row, unitQuery, filter, top, scratch);
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return top.BestFirst();
    }

    /// <summary>Exact search over the rows of <paramref name="categories"/> only: what a selective category filter needs.</summary>
    public IReadOnlyList<VectorHit> SearchCategories(ReadOnlySpan<float> unitQuery, int limit, IReadOnlyCollection<string> categories, ProductFilter filter)
    {
        var top = new TopHits(limit);
        var scratch = _vectors.NewScratch();
        _lock.EnterReadLock();
        try
        {
            foreach (var category in categories.Distinct(StringComparer.Ordinal))
            {
                if (!_inCategory.TryGetValue(category, out var members))
                    continue;
                foreach (var row in members)
                    Consider(row, unitQuery, filter, top, scratch);
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return top.BestFirst();
    }

    /// <summary>
    /// Approximate search through <paramref name="graph"/>, which applies the filter while it walks, then exact
    /// rescoring of the <paramref name="fetch"/> nodes it returns. Null when it found fewer than
    /// <paramref name="limit"/>: the caller cannot tell "no more exist" from "the walk missed them", so it scans.
    /// </summary>
    public IReadOnlyList<VectorHit>? SearchGraph(ReadyGraph graph, ReadOnlySpan<float> unitQuery, int limit, int fetch, ProductFilter filter)
    {
        // A filter that only excludes a few products (the one a similar-products call is about, a customer's purchases)
        // costs less as that many more unfiltered results, dropped below, than as a native-to-managed call per node the
        // walk visits.
        var dropAfterWalk = filter.ExcludesOnly && filter.ExcludeProductIds.Count <= ExclusionsAfterWalk;
        IGraphFilter? walkFilter = dropAfterWalk ? null
            : filter.ExcludesOnly ? new ExclusionFilter(graph.Keys, filter)
            : new RowFilter(this, graph.Keys, filter);
        if (dropAfterWalk) fetch += filter.ExcludeProductIds.Count;
        var keys = ArrayPool<ulong>.Shared.Rent(fetch);
        var distances = ArrayPool<float>.Shared.Rent(fetch);
        _lock.EnterReadLock();
        try
        {
            var found = graph.Graph.Search(unitQuery, walkFilter, keys.AsSpan(0, fetch), distances.AsSpan(0, fetch));
            var top = new TopHits(limit);
            var scratch = _vectors.NewScratch();
            for (var i = 0; i < found; i++)
            {
                if (graph.Keys.ProductOf(keys[i]) is not { } productId || !_rowOf.TryGetValue(productId, out var row))
                    continue;
                if (dropAfterWalk && !filter.Matches(productId, _categories[row], _prices[row], _inStock[row]))
                    continue;
                var candidate = new VectorHit(productId, _vectors.Dot(row, unitQuery, scratch));
                if (top.WouldKeep(candidate))
                    top.Add(candidate);
            }
            return top.Count < limit ? null : top.BestFirst();
        }
        finally
        {
            _lock.ExitReadLock();
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<float>.Shared.Return(distances);
        }
    }

    /// <summary>How many rows the categories hold: an upper bound on what a filter naming them can match.</summary>
    public int CountInCategories(IReadOnlyCollection<string> categories)
    {
        _lock.EnterReadLock();
        try
        {
            return categories.Distinct(StringComparer.Ordinal).Sum(c => _inCategory.TryGetValue(c, out var members) ? members.Count : 0);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Estimated rows passing <paramref name="filter"/>, from an evenly spread sample of rows.</summary>
    public long EstimateMatches(ProductFilter filter, int samples)
    {
        _lock.EnterReadLock();
        try
        {
            if (_count <= samples)
                return Enumerable.Range(0, _count).Count(row => filter.Matches(_ids[row], _categories[row], _prices[row], _inStock[row]));
            var step = (double)_count / samples;
            var matches = 0;
            for (var i = 0; i < samples; i++)
            {
                var row = (int)(i * step);
                if (filter.Matches(_ids[row], _categories[row], _prices[row], _inStock[row]))
                    matches++;
            }
            return (long)Math.Ceiling(matches * step);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Whether <paramref name="productId"/> is stored with this vector, as the rows' precision holds it (payload-only updates skip the graph).</summary>
    public bool HasVector(string productId, ReadOnlySpan<float> unitVector)
    {
        _lock.EnterReadLock();
        try
        {
            return _rowOf.TryGetValue(productId, out var row) && _vectors.Holds(row, unitVector);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Ids and vectors of up to <paramref name="count"/> rows from <paramref name="start"/>, copied out for a graph build.</summary>
    public (string[] Ids, float[] Vectors) CopyRows(int start, int count)
    {
        _lock.EnterReadLock();
        try
        {
            var end = Math.Min(_count, start + count);
            if (end <= start)
                return ([], []);
            return (_ids[start..end], _vectors.Copy(start, end - start));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public List<string> ProductIds()
    {
        _lock.EnterReadLock();
        try
        {
            return [.. _rowOf.Keys];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Copies of the stored unit vectors; callers can never alias the matrix.</summary>
    public Dictionary<string, float[]> GetVectors(IEnumerable<string> productIds)
    {
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        _lock.EnterReadLock();
        try
        {
            foreach (var productId in productIds)
            {
                if (_rowOf.TryGetValue(productId, out var row))
                    vectors[productId] = _vectors.Copy(row, 1);
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return vectors;
    }

    /// <summary>The given products that have a row.</summary>
    public IReadOnlySet<string> Present(IReadOnlyCollection<string> productIds)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        _lock.EnterReadLock();
        try
        {
            foreach (var productId in productIds)
            {
                if (_rowOf.ContainsKey(productId))
                    present.Add(productId);
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return present;
    }

    /// <summary>Dot product of <paramref name="unitQuery"/> with each product's row, read in place; missing ids are absent.</summary>
    public IReadOnlyList<VectorHit> Score(ReadOnlySpan<float> unitQuery, IReadOnlyCollection<string> productIds)
    {
        var hits = new List<VectorHit>(productIds.Count);
        var scratch = _vectors.NewScratch();
        _lock.EnterReadLock();
        try
        {
            foreach (var productId in productIds)
            {
                if (_rowOf.TryGetValue(productId, out var row))
                    hits.Add(new VectorHit(productId, _vectors.Dot(row, unitQuery, scratch)));
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return hits;
    }

    /// <summary>
    /// The given products' rows, each times its weight, summed and scaled to unit length, read in place; null when none
    /// has a row or they cancel out. Summed in the weights' order, as <see cref="IVectorIndex.WeightedMeanAsync"/> does.
    /// </summary>
    public float[]? WeightedMean(IReadOnlyDictionary<string, double> weights)
    {
        var sum = new float[Dimension];
        var scratch = _vectors.NewScratch();
        var found = false;
        _lock.EnterReadLock();
        try
        {
            foreach (var (productId, weight) in weights)
            {
                if (!_rowOf.TryGetValue(productId, out var row)) continue;
                _vectors.MultiplyAdd(row, (float)weight, sum, scratch);
                found = true;
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        if (!found) return null;
        var norm = TensorPrimitives.Norm(sum);
        if (norm <= 0) return null;
        TensorPrimitives.Divide(sum, norm, sum);
        return sum;
    }

    /// <summary>
    /// For each of <paramref name="productIds"/> with a row, the one of <paramref name="among"/> whose row is most similar
    /// (the first of equals), read in place.
    /// </summary>
    public Dictionary<string, string> NearestAmong(IReadOnlyCollection<string> productIds, IReadOnlyCollection<string> among)
    {
        var nearest = new Dictionary<string, string>(StringComparer.Ordinal);
        var vector = new float[Dimension];
        var scratch = _vectors.NewScratch();
        _lock.EnterReadLock();
        try
        {
            foreach (var productId in productIds)
            {
                if (!_rowOf.TryGetValue(productId, out var row)) continue;
                _vectors.Read(row, vector);
                var best = float.NegativeInfinity;
                foreach (var candidate in among)
                {
                    if (!_rowOf.TryGetValue(candidate, out var other)) continue;
                    var similarity = _vectors.Dot(other, vector, scratch);
                    if (similarity > best) (best, nearest[productId]) = (similarity, candidate);
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return nearest;
    }

    /// <summary>Every live row as a record, for rewriting the log without superseded entries.</summary>
    public List<VectorRecord> Export()
    {
        _lock.EnterReadLock();
        try
        {
            var records = new List<VectorRecord>(_count);
            for (var row = 0; row < _count; row++)
                records.Add(new VectorRecord(_ids[row], _vectors.Copy(row, 1), _categories[row], _prices[row], _inStock[row], _titles.Get(row)));
            return records;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>Scores one row and keeps it if it makes the cut and passes the filter. Callers hold the read lock.</summary>
    private void Consider(int row, ReadOnlySpan<float> unitQuery, ProductFilter filter, TopHits top, float[] scratch)
    {
        var score = _vectors.Dot(row, unitQuery, scratch);
        if (score < top.Cutoff)
            return;
        var candidate = new VectorHit(_ids[row], score);
        // Scoring first means the filter (set lookups) only runs for rows that would make the cut.
        if (top.WouldKeep(candidate) && filter.Matches(_ids[row], _categories[row], _prices[row], _inStock[row]))
            top.Add(candidate);
    }

    /// <summary>Adds the row to its category's rows; returns the category's name as the rows hold it.</summary>
    private string JoinCategory(int row, string category)
    {
        if (!_inCategory.TryGetValue(category, out var members))
            _inCategory[category] = members = new CategoryRows(category);
        members.Add(row);
        return members.Name;
    }

    /// <summary>
    /// A category's rows, with the one copy of its name every row shares: a million rows in a few hundred categories
    /// are a few hundred strings, not a million, for every full collection to mark.
    /// </summary>
    private sealed class CategoryRows(string name) : HashSet<int>
    {
        public string Name { get; } = name;
    }

    private void LeaveCategory(int row, string category)
    {
        if (_inCategory.TryGetValue(category, out var members) && members.Remove(row) && members.Count == 0)
            _inCategory.Remove(category);
    }

    /// <summary>Most excluded products a graph search drops after the walk instead of during it.</summary>
    private const int ExclusionsAfterWalk = 64;

    /// <summary>The graph's view of the request's filter: a node passes when it still names a row that passes.</summary>
    private sealed class RowFilter(VectorMatrix matrix, GraphKeys keys, ProductFilter filter) : IGraphFilter
    {
        // Runs on the searching thread, inside its read lock, so the payload arrays cannot change under it.
        public bool Accepts(ulong key) =>
            keys.ProductOf(key) is { } productId
            && matrix._rowOf.TryGetValue(productId, out var row)
            && filter.Matches(productId, matrix._categories[row], matrix._prices[row], matrix._inStock[row]);
    }

    /// <summary>
    /// Only named products excluded (a heavy customer's purchases): no row is needed to decide, so a visited node costs
    /// one lookup in the small excluded set, not one in the index's row map too. A node whose product left the rows
    /// meanwhile is dropped after the walk, like any other.
    /// </summary>
    private sealed class ExclusionFilter(GraphKeys keys, ProductFilter filter) : IGraphFilter
    {
        public bool Accepts(ulong key) => keys.ProductOf(key) is { } productId && !filter.Excludes(productId);
    }

    private void MoveRow(int from, int to)
    {
        _vectors.Move(from, to);
        _ids[to] = _ids[from];
        _categories[to] = _categories[from];
        _prices[to] = _prices[from];
        _inStock[to] = _inStock[from];
        _titles.Move(from, to);
        _rowOf[_ids[to]] = to;
    }

    private void EnsureCapacity(int rows)
    {
        if (rows <= _ids.Length)
            return;
        var capacity = Math.Max(rows, _ids.Length * 2);
        _vectors.Resize(capacity);
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _categories, capacity);
        Array.Resize(ref _prices, capacity);
        Array.Resize(ref _inStock, capacity);
        _titles.Resize(capacity);
    }
}
