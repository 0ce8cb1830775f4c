using System.Globalization;
using System.IO.Compression;
using CsvHelper;
using CsvHelper.Configuration;
using Recommend.Core.Catalog;
using Recommend.Core.History;
using Recommend.SampleData;

namespace Recommend.Evaluation;

/// <summary>One order line: who bought what, when, in which order.</summary>
public sealed record Purchase(string UserId, string ProductId, DateTimeOffset OccurredAt, string OrderId, int Quantity, double Price)
{
    /// <summary>Stable per order line, so loading twice stores it once (the same ids the sample seeding uses).</summary>
    public UserEvent ToEvent() => new($"uci-{OrderId}-{ProductId}", EventType.Purchase, UserId, ProductId, Quantity, Price, OccurredAt, null, OrderId);
}

/// <summary>A catalog and its purchase history, oldest first.</summary>
public sealed record EvaluationDataset(string Name, IReadOnlyList<Product> Products, IReadOnlyList<Purchase> Purchases)
{
    public const string SampleName = "sample";

    /// <summary>
    /// <paramref name="source"/> is "sample" (the bundled UCI subset), a directory with the UCI derived files
    /// (products.csv, orders.csv, order_items.csv, gzipped or not), or a directory with the generic
    /// <c>products.csv</c> (product_id,title,price[,category]) and <c>purchases.csv</c>
    /// (user_id,product_id,occurred_at,order_id,quantity,price).
    /// </summary>
    public static async Task<EvaluationDataset> LoadAsync(string source, CancellationToken ct)
    {
        if (source == SampleName) return await SampleAsync(ct);
        if (!Directory.Exists(source)) throw new DatasetException($"{source}: no such directory (or use \"sample\")");
        if (Find(source, "order_items.csv") is { } orderItems) return Uci(source, orderItems);
        if (Find(source, "purchases.csv") is { } purchases) return Generic(source, purchases);
        throw new DatasetException($"{source}: expected the UCI files (products.csv, orders.csv, order_items.csv) or products.csv and purchases.csv");
    }

    private static async Task<EvaluationDataset> SampleAsync(CancellationToken ct)
    {
        var purchases = new List<Purchase>();
        await foreach (var e in SampleCatalog.PurchasesAsync(ct))
            purchases.Add(new Purchase(e.UserId, e.ProductId, e.OccurredAt, e.OrderId!, e.Quantity, e.Price));
        return new EvaluationDataset(SampleName, SampleCatalog.Products(), Sorted(purchases));
    }

    /// <summary>The UCI Online Retail derived files: products carry their median price; an order's lines take its time and customer.</summary>
    private static EvaluationDataset Uci(string directory, string orderItemsPath)
    {
        var products = new List<Product>();
        foreach (var row in Rows(Require(directory, "products.csv")))
        {
            var title = row["Description"];
            if (string.IsNullOrWhiteSpace(title)) continue; // adjustment-only codes, never sold
            // Never sold on a kept line: no median price.
            var price = row["MedianUnitPrice"] is { Length: > 0 } median ? Number(median) : 0;
            products.Add(new Product(row["StockCode"], title, "", "", price, true, Product.NoAttributes));
        }
        var orders = new Dictionary<string, (string User, DateTimeOffset At)>(StringComparer.Ordinal);
        foreach (var row in Rows(Require(directory, "orders.csv")))
            orders[row["InvoiceNo"]] = (row["CustomerID"], Time(row["InvoiceDate"]));
        var purchases = new List<Purchase>();
        foreach (var row in Rows(orderItemsPath))
        {
            if (!orders.TryGetValue(row["InvoiceNo"], out var order)) continue;
            purchases.Add(new Purchase(order.User, row["StockCode"], order.At, row["InvoiceNo"], (int)Number(row["Quantity"]), Number(row["UnitPrice"])));
        }
        return new EvaluationDataset(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), products, Sorted(purchases));
    }

    private static EvaluationDataset Generic(string directory, string purchasesPath)
    {
        var products = Rows(Require(directory, "products.csv"))
            .Select(row => new Product(row["product_id"], row["title"], "", row.GetValueOrDefault("category") ?? "", Number(row["price"]), true, Product.NoAttributes))
            .ToList();
        var purchases = Rows(purchasesPath)
            .Select(row => new Purchase(row["user_id"], row["product_id"], Time(row["occurred_at"]), row["order_id"],
                (int)Number(row["quantity"]), Number(row["price"])))
            .ToList();
        return new EvaluationDataset(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), products, Sorted(purchases));
    }

    private static List<Purchase> Sorted(List<Purchase> purchases)
    {
        purchases.Sort((a, b) => a.OccurredAt.CompareTo(b.OccurredAt));
        return purchases;
    }

    private static string? Find(string directory, string name) =>
        new[] { name, name + ".gz" }.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists);

    private static string Require(string directory, string name) =>
        Find(directory, name) ?? throw new DatasetException($"{directory}: {name} is missing");

    /// <summary>The rows of a CSV file (gzipped when it ends in .gz) as header → value, with the line for errors.</summary>
    private static IEnumerable<Dictionary<string, string>> Rows(string path)
    {
        using var file = File.OpenRead(path);
        using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        using var reader = new StreamReader(stream);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture));
        if (!csv.Read() || !csv.ReadHeader()) yield break;
        var header = csv.HeaderRecord!;
        while (csv.Read())
        {
            var row = new Dictionary<string, string>(header.Length, StringComparer.Ordinal);
            for (var i = 0; i < header.Length; i++) row[header[i]] = csv.GetField(i) ?? "";
            foreach (var required in header)
            {
                if (!row.ContainsKey(required)) throw new DatasetException($"{path}:{csv.Parser.RawRow}: column {required} is missing");
            }
            yield return row;
        }
    }

    private static double Number(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : throw new DatasetException($"not a number: '{value}'");

    /// <summary>UCI times are UK local time without a zone; read as UTC like the sample seeding, so baskets keep their day.</summary>
    private static DateTimeOffset Time(string value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw new DatasetException($"not a time: '{value}'");
}

/// <summary>A dataset that cannot be read; the message names the file and what is wrong.</summary>
public sealed class DatasetException(string message) : Exception(message);
