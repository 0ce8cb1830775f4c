using System.Numerics.Tensors;
using Recommend.Core.Catalog;
using Recommend.Core.Vectors;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// One version's rows in memory: unit vectors in one contiguous matrix (a row per product) beside parallel payload
/// arrays. Deletes move the last row into the hole, so rows stay dense and a search is one pass over the matrix.
/// Searches share a read lock; writes take the write lock, so a search sees a batch entirely or not at all.
/// </summary>
internal sealed class VectorMatrix(int dimension) : IDisposable
{
    private const int InitialCapacity = 64;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> _rowOf = new(StringComparer.Ordinal);
    private float[] _vectors = new float[InitialCapacity * dimension];
    private string[] _ids = new string[InitialCapacity];
    private string[] _categories = new string[InitialCapacity];
    private double[] _prices = new double[InitialCapacity];
    private bool[] _inStock = new bool[InitialCapacity];
    private string[] _titles = new string[InitialCapacity];
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
                }
                record.Vector.CopyTo(RowSpan(row));
                _ids[row] = record.ProductId;
                _categories[row] = record.Category;
                _prices[row] = record.Price;
                _inStock[row] = record.InStock;
                _titles[row] = record.Title;
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
                var last = --_count;
                if (row != last)
                    MoveRow(last, row);
                // Release the strings of the vacated row to the GC.
                Array.Clear(_ids, last, 1);
                Array.Clear(_categories, last, 1);
                Array.Clear(_titles, last, 1);
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

    /// <summary>Exact cosine search. <paramref name="unitQuery"/> must be unit length, so the dot product is the cosine.</summary>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> unitQuery, int limit, ProductFilter filter)
    {
        var top = new TopHits(limit);
        _lock.EnterReadLock();
        try
        {
            for (var row = 0; row < _count; row++)
            {
                var score = TensorPrimitives.Dot(unitQuery, RowSpan(row));
                if (score < top.Cutoff)
                    continue;
                var candidate = new VectorHit(_ids[row], score);
                // Scoring first means the filter (linear scans of its lists) only runs for rows that would make the cut.
                if (top.WouldKeep(candidate) && filter.Matches(_ids[row], _categories[row], _prices[row], _inStock[row]))
                    top.Add(candidate);
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return top.BestFirst();
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
                    vectors[productId] = RowSpan(row).ToArray();
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return vectors;
    }

    /// <summary>Every live row as a record, for rewriting the log without superseded entries.</summary>
    public List<VectorRecord> Export()
    {
        _lock.EnterReadLock();
        try
        {
            var records = new List<VectorRecord>(_count);
            for (var row = 0; row < _count; row++)
                records.Add(new VectorRecord(_ids[row], RowSpan(row).ToArray(), _categories[row], _prices[row], _inStock[row], _titles[row]));
            return records;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Dispose() => _lock.Dispose();

    private Span<float> RowSpan(int row) => _vectors.AsSpan(row * Dimension, Dimension);

    private void MoveRow(int from, int to)
    {
        RowSpan(from).CopyTo(RowSpan(to));
        _ids[to] = _ids[from];
        _categories[to] = _categories[from];
        _prices[to] = _prices[from];
        _inStock[to] = _inStock[from];
        _titles[to] = _titles[from];
        _rowOf[_ids[to]] = to;
    }

    private void EnsureCapacity(int rows)
    {
        if (rows <= _ids.Length)
            return;
        var capacity = Math.Max(rows, _ids.Length * 2);
        Array.Resize(ref _vectors, capacity * Dimension);
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _categories, capacity);
        Array.Resize(ref _prices, capacity);
        Array.Resize(ref _inStock, capacity);
        Array.Resize(ref _titles, capacity);
    }
}
