using System.Text;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// A text per row, kept as UTF-8 in one buffer: for texts held for a rare reader (titles, read only to rewrite the log).
/// A million titles are then one array a full collection skips, not a million strings it marks while requests wait.
/// Replaced and removed texts leave holes; the buffer is compacted when they would make up half of it.
/// Not thread-safe: the owner serialises writes against reads.
/// </summary>
internal sealed class Utf8Texts(int capacity)
{
    /// <summary>Per row: offset in <see cref="_bytes"/> in the high half, byte length in the low half.</summary>
    private long[] _at = new long[capacity];
    private byte[] _bytes = new byte[1024];
    private int _used;
    private int _dead;

    public void Set(int row, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        _dead += LengthAt(row);
        _at[row] = 0;
        if (length > _bytes.Length - _used)
            MakeRoom(length);
        Encoding.UTF8.GetBytes(text, _bytes.AsSpan(_used, length));
        _at[row] = (long)_used << 32 | (uint)length;
        _used += length;
    }

    public string Get(int row) => Encoding.UTF8.GetString(_bytes, (int)(_at[row] >> 32), LengthAt(row));

    /// <summary>Row <paramref name="to"/> takes the text of <paramref name="from"/>, which is left empty.</summary>
    public void Move(int from, int to)
    {
        _dead += LengthAt(to);
        _at[to] = _at[from];
        _at[from] = 0;
    }

    public void Clear(int row)
    {
        _dead += LengthAt(row);
        _at[row] = 0;
    }

    public void Resize(int capacity) => Array.Resize(ref _at, capacity);

    private int LengthAt(int row) => (int)(_at[row] & uint.MaxValue);

    private void MakeRoom(int length)
    {
        var live = (long)_used - _dead;
        var needed = live + length;
        if (needed > Array.MaxLength)
            throw new InvalidOperationException("The index version's titles exceed 2 GB of UTF-8.");
        // Compacting when half is holes keeps it O(1) per write amortised; growing doubles.
        var size = _dead >= _used / 2 ? Math.Max(needed, _bytes.Length) : Math.Max(needed, 2L * _bytes.Length);
        var bytes = new byte[Math.Min(size, Array.MaxLength)];
        var next = 0;
        for (var row = 0; row < _at.Length; row++)
        {
            var rowLength = LengthAt(row);
            if (rowLength == 0)
                continue;
            _bytes.AsSpan((int)(_at[row] >> 32), rowLength).CopyTo(bytes.AsSpan(next));
            _at[row] = (long)next << 32 | (uint)rowLength;
            next += rowLength;
        }
        (_bytes, _used, _dead) = (bytes, next, 0);
    }
}
