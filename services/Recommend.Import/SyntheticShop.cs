using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Recommend.Import;

/// <summary>
/// A synthetic shop for benchmarks, written in the import formats: <c>products.jsonl.gz</c> and <c>history.csv.gz</c>.
/// Categories of Zipf-distributed size, each with its own vocabulary (so text embeddings cluster by category) and a
/// log-normal price band; products Zipf-popular within the shop; customers of Zipf-distributed activity whose
/// sessions stay on one or two categories, view and add to cart before some end in an order of log-normal size.
/// The same seed gives the same bytes.
/// </summary>
public sealed class SyntheticShop(int products, long events, int seed)
{
    private static readonly string[] Adjectives =
        ["RED", "BLUE", "GREEN", "WHITE", "BLACK", "VINTAGE", "RETRO", "SMALL", "LARGE", "JUMBO", "MINI", "GLASS", "WOODEN",
         "METAL", "PINK", "IVORY", "PAISLEY", "SPOTTY", "STRIPY", "FLORAL", "HEART", "STAR", "CHRISTMAS", "GARDEN", "KITCHEN"];

    private static readonly string[] Syllables = ["LA", "MO", "TRI", "VEN", "KAR", "SOL", "BRI", "NUX", "PEL", "DRA", "QUI", "ZEN", "FAR", "GLO"];

    public int Products { get; } = products > 0 ? products : throw new ArgumentOutOfRangeException(nameof(products));

    public long Events { get; } = events >= 0 ? events : throw new ArgumentOutOfRangeException(nameof(events));

    public int Categories => Math.Max(4, Products / 500);

    public int Customers => Math.Max(10, Products / 2);

    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var catalog = Catalog();
        WriteGzip(Path.Combine(directory, "products.jsonl.gz"), writer =>
        {
            foreach (var product in catalog)
                writer.Write(JsonSerializer.Serialize(new { product_id = product.Id, title = product.Title, category = product.Category, price = product.Price, in_stock = product.InStock }) + "\n");
        });
        WriteGzip(Path.Combine(directory, "history.csv.gz"), writer =>
        {
            writer.Write("event_id,type,user_id,product_id,occurred_at,order_id,quantity,price\n");
            foreach (var line in History(catalog))
                writer.Write(line);
        });
    }

    private sealed record SyntheticProduct(string Id, string Title, string Category, int CategoryIndex, double Price, bool InStock);

    private List<SyntheticProduct> Catalog()
    {
        var random = new Random(seed);
        var categorySize = new Zipf(Categories, 1.0);
        var vocabulary = Enumerable.Range(0, Categories).Select(c => Enumerable.Range(0, 6).Select(_ => Word(random)).ToArray()).ToArray();
        var priceCentre = Enumerable.Range(0, Categories).Select(_ => Math.Exp(0.5 + random.NextDouble() * 3)).ToArray();
        var catalog = new List<SyntheticProduct>(Products);
        for (var i = 0; i < Products; i++)
        {
            var category = categorySize.Sample(random);
            var words = vocabulary[category];
            var title = $"{Adjectives[random.Next(Adjectives.Length)]} {words[random.Next(words.Length)]} {words[random.Next(words.Length)]} {Word(random)}";
            var price = Math.Round(priceCentre[category] * Math.Exp(Normal(random) * 0.4), 2);
            catalog.Add(new SyntheticProduct($"P{i:D7}", title, $"{vocabulary[category][0]} {vocabulary[category][1]}", category, Math.Max(0.1, price), random.Next(10) > 0));
        }
        return catalog;
    }

    private IEnumerable<string> History(List<SyntheticProduct> catalog)
    {
        var random = new Random(seed + 1);
        // Popularity is Zipf over a shuffled catalog, so popular products are spread over the categories.
        var byPopularity = catalog.OrderBy(_ => random.Next()).ToArray();
        var inCategory = catalog.GroupBy(p => p.CategoryIndex).ToDictionary(g => g.Key, g => g.OrderBy(_ => random.Next()).ToArray());
        var popularity = new Zipf(byPopularity.Length, 1.05);
        var activity = new Zipf(Customers, 0.9);
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var span = TimeSpan.FromDays(730);
        long written = 0, orders = 0;
        while (written < Events)
        {
            var customer = $"C{activity.Sample(random):D7}";
            var at = start + span * random.NextDouble();
            // A session: one or two categories the customer is shopping for, reached through a popular product.
            var first = byPopularity[popularity.Sample(random)];
            var themes = random.Next(4) == 0 ? new[] { first.CategoryIndex, byPopularity[popularity.Sample(random)].CategoryIndex } : [first.CategoryIndex];
            var views = 1 + (int)Math.Min(40, Math.Exp(Normal(random) * 0.8 + 1.2));
            var basket = new List<SyntheticProduct>();
            for (var v = 0; v < views && written < Events; v++)
            {
                var pool = inCategory[themes[random.Next(themes.Length)]];
                var product = v == 0 ? first : pool[(int)Math.Min(pool.Length - 1, Math.Abs(Normal(random)) * pool.Length / 4)];
                at += TimeSpan.FromSeconds(20 + random.Next(120));
                yield return Line($"v{written}", "view", customer, product, at, "", 1, product.Price);
                written++;
                if (random.Next(3) == 0) basket.Add(product);
            }
            if (basket.Count == 0 || random.Next(5) < 2 || written >= Events) continue;
            var order = $"O{++orders:D8}";
            at += TimeSpan.FromMinutes(2);
            foreach (var product in basket.DistinctBy(p => p.Id))
            {
                if (written >= Events) break;
                yield return Line($"{order}-{product.Id}", "purchase", customer, product, at, order, 1 + (int)Math.Abs(Normal(random) * 3), product.Price);
                written++;
            }
        }
    }

    private static string Line(string id, string type, string customer, SyntheticProduct product, DateTimeOffset at, string order, int quantity, double price) =>
        string.Create(CultureInfo.InvariantCulture, $"{id},{type},{customer},{product.Id},{at:yyyy-MM-ddTHH:mm:ssZ},{order},{quantity},{price}\n");

    private static string Word(Random random) =>
        string.Concat(Enumerable.Range(0, 2 + random.Next(2)).Select(_ => Syllables[random.Next(Syllables.Length)]));

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static void WriteGzip(string path, Action<TextWriter> write)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var writer = new StreamWriter(gzip, new UTF8Encoding(false), 1 << 16);
        write(writer);
    }

    /// <summary>Ranks 0..n-1 with P(rank) ∝ 1/(rank+1)^s, sampled by binary search over the cumulative weights.</summary>
    private sealed class Zipf
    {
        private readonly double[] _cumulative;

        public Zipf(int n, double exponent)
        {
            _cumulative = new double[n];
            var total = 0.0;
            for (var i = 0; i < n; i++)
                _cumulative[i] = total += 1 / Math.Pow(i + 1, exponent);
            for (var i = 0; i < n; i++)
                _cumulative[i] /= total;
        }

        public int Sample(Random random)
        {
            var index = Array.BinarySearch(_cumulative, random.NextDouble());
            return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
        }
    }
}
