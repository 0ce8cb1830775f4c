using System.Globalization;
using System.IO.Compression;
using Recommend.Core.History;

namespace Recommend.Postgres.Bench;

/// <summary>
/// Real order lines (the UCI Online Retail data: the bundled sample, or the full set), replayed as events. Each replay
/// round renames orders and event ids, so the stream is as long as asked for and its baskets keep UCI's shape.
/// </summary>
internal sealed class OrderLines
{
    private readonly IReadOnlyList<Line> _lines;

    private OrderLines(IReadOnlyList<Line> lines) => _lines = lines;

    public int Count => _lines.Count;
    public int Orders => _lines.Select(l => l.OrderId).Distinct().Count();

    /// <summary>Ordered product pairs each line adds to the co-purchase counts, on average.</summary>
    public double PairsPerLine => _lines.GroupBy(l => l.OrderId)
        .Select(order => order.Select(l => l.ProductId).Distinct().Count())
        .Sum(n => (double)n * (n - 1)) / _lines.Count;

    /// <summary>Reads <c>order_id,user_id,occurred_at,product_id,quantity,price</c> lines from a gzipped CSV.</summary>
    public static OrderLines Load(string csvGz)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(csvGz), CompressionMode.Decompress));
        var header = reader.ReadLine();
        if (header != "order_id,user_id,occurred_at,product_id,quantity,price")
            throw new InvalidDataException($"{csvGz}: unexpected header '{header}'.");
        var lines = new List<Line>();
        while (reader.ReadLine() is { } row)
        {
            var f = row.Split(',');
            lines.Add(new Line(f[0], f[1],
                DateTimeOffset.Parse(f[2], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                f[3], int.Parse(f[4], CultureInfo.InvariantCulture), double.Parse(f[5], CultureInfo.InvariantCulture)));
        }
        return new OrderLines(lines);
    }

    /// <summary>Endless stream of the lines as events of <paramref name="type"/>, round after round.</summary>
    public IEnumerable<UserEvent> Events(EventType type, string prefix)
    {
        for (var round = 0; ; round++)
        {
            for (var i = 0; i < _lines.Count; i++)
            {
                var line = _lines[i];
                var order = $"{prefix}{round}/{line.OrderId}";
                yield return new UserEvent($"{order}/{i}", type, line.UserId, line.ProductId, line.Quantity, line.Price,
                    line.OccurredAt.AddYears(round), null, type == EventType.Purchase ? order : null);
            }
        }
    }

    private sealed record Line(string OrderId, string UserId, DateTimeOffset OccurredAt, string ProductId, int Quantity, double Price);
}
