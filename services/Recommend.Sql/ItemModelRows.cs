using System.Runtime.InteropServices;
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

    /// <param name="ids">Ids decoded so far: each product id is held once however many lists name it.</param>
    public static ItemNeighbour[] Decode(byte[] blob, Dictionary<string, string> ids)
    {
        using var reader = new BinaryReader(new MemoryStream(blob), Encoding.UTF8);
        var neighbours = new ItemNeighbour[reader.Read7BitEncodedInt()];
        for (var i = 0; i < neighbours.Length; i++)
        {
            var id = reader.ReadString();
            ref var shared = ref CollectionsMarshal.GetValueRefOrAddDefault(ids, id, out _);
            shared ??= id;
            neighbours[i] = new ItemNeighbour(shared, reader.ReadSingle());
        }
        return neighbours;
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
