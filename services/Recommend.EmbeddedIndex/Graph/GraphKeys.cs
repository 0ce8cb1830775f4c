namespace Recommend.EmbeddedIndex.Graph;

/// <summary>
/// Graph node keys for product ids. A key names one stored vector and is never reused, so a search that ran before a
/// product changed cannot be mistaken for the new vector. One writer at a time; readers resolve keys without a lock.
/// </summary>
internal sealed class GraphKeys
{
    private readonly Dictionary<string, ulong> _keyOf = new(StringComparer.Ordinal);
    private string?[] _productOf;
    private ulong _next;

    public GraphKeys(int capacity = 64) => _productOf = new string?[Math.Max(capacity, 64)];

    public int Count => _keyOf.Count;

    public bool TryGetKey(string productId, out ulong key) => _keyOf.TryGetValue(productId, out key);

    /// <summary>The product a key stands for, or null once it was released. Safe to call during writes.</summary>
    public string? ProductOf(ulong key)
    {
        var products = Volatile.Read(ref _productOf);
        return key < (ulong)products.Length ? Volatile.Read(ref products[key]) : null;
    }

    /// <summary>A fresh key for <paramref name="productId"/>; call <see cref="Release"/> for any previous one first.</summary>
    public ulong Assign(string productId)
    {
        var key = _next++;
        if (key >= (ulong)_productOf.Length)
        {
            var grown = new string?[Math.Max(_productOf.Length * 2, (int)key + 1)];
            _productOf.CopyTo(grown, 0);
            Volatile.Write(ref _productOf, grown);
        }
        // Published before the node is added, so any search that finds the node can resolve it.
        Volatile.Write(ref _productOf[key], productId);
        _keyOf[productId] = key;
        return key;
    }

    public bool Release(string productId, out ulong key)
    {
        if (!_keyOf.Remove(productId, out key))
            return false;
        Volatile.Write(ref _productOf[key], null);
        return true;
    }

    public IEnumerable<string> Products => _keyOf.Keys;

    public void Save(BinaryWriter writer)
    {
        writer.Write(_next);
        writer.Write(_keyOf.Count);
        foreach (var (productId, key) in _keyOf)
        {
            writer.Write(key);
            writer.Write(productId);
        }
    }

    /// <param name="share">Returns the copy of an id that the rest of the index already holds, so each id is in memory once.</param>
    public static GraphKeys Load(BinaryReader reader, Func<string, string> share)
    {
        var next = reader.ReadUInt64();
        var count = reader.ReadInt32();
        if (count < 0 || (ulong)count > next)
            throw new InvalidDataException("The graph key map is damaged.");
        var keys = new GraphKeys(checked((int)next));
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadUInt64();
            var productId = share(reader.ReadString());
            if (key >= next || !keys._keyOf.TryAdd(productId, key))
                throw new InvalidDataException("The graph key map is damaged.");
            keys._productOf[key] = productId;
        }
        keys._next = next;
        return keys;
    }
}
