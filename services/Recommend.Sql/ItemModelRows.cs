using System.Text;
using Recommend.Core.Learning;

namespace Recommend.Sql;

/// <summary>
/// One stored row per source product: its neighbours as one compact blob (count, then per neighbour the UTF-8 id's
/// length, the id and the weight as float32), so a million-product model is a million rows, not fifty million.
/// </summary>
public static class ItemModelRows
{
    /// <summary>Versions kept: the live one and the one before it.</summary>
    public const int KeptVersions = 2;

    public static byte[] Encode(IReadOnlyList<ItemNeighbour> neighbours)
    {
        using var buffer = new MemoryStream(8 + neighbours.Count * 16);
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write7BitEncodedInt(neighbours.Count);
            foreach (var neighbour in neighbours)
            {
                writer.Write(neighbour.ProductId); // length-prefixed UTF-8
                writer.Write(neighbour.Weight);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>Adds the source's stored row to the model being loaded, without an object per neighbour.</summary>
    public static void AddRow(ItemToItemModel.Builder model, string source, byte[] blob)
    {
        model.StartRow(source);
        using var stream = new MemoryStream(blob, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        Span<char> buffer = stackalloc char[128];
        var count = reader.Read7BitEncodedInt();
        for (var i = 0; i < count; i++)
        {
            var length = reader.Read7BitEncodedInt();
            var utf8 = blob.AsSpan((int)stream.Position, length);
            stream.Seek(length, SeekOrigin.Current);
            var id = utf8.Length <= buffer.Length ? buffer : new char[utf8.Length];
            model.Add(id[..Encoding.UTF8.GetChars(utf8, id)], reader.ReadSingle());
        }
    }

    /// <summary>The stored description of a model, as both stores keep it.</summary>
    public sealed class InfoRow
    {
        public long Version { get; set; }
        public long TrainedAt { get; set; }
        public string Method { get; set; } = "";
        public long Products { get; set; }
        public long Neighbours { get; set; }
        public long Purchases { get; set; }
        public long TrainingMs { get; set; }

        public ItemModelInfo ToInfo() => new(Version, DateTimeOffset.FromUnixTimeMilliseconds(TrainedAt), Method, (int)Products, Neighbours, Purchases,
            TimeSpan.FromMilliseconds(TrainingMs));
    }

    public const string InfoColumns =
        "version AS Version, trained_at AS TrainedAt, method AS Method, products AS Products, neighbours AS Neighbours, " +
        "purchases AS Purchases, training_ms AS TrainingMs";
}
