using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using CsvHelper;
using Recommend.Core.Catalog;
using Recommend.Core.History;

namespace Recommend.SampleData;

/// <summary>
/// A subset of the UCI Online Retail data set (Chen, Sain &amp; Guo 2012; CC BY 4.0): every titled product with a
/// keyword-derived category, and the full order history of a quarter of the customers (samples/make_sample.py).
/// </summary>
public static class SampleCatalog
{
    /// <summary>UCI order times are UK local time without a zone; treating them as UTC keeps baskets on their day.</summary>
    private const string TimeFormat = "yyyy-MM-dd HH:mm:ss";

    public static IReadOnlyList<Product> Products()
    {
        using var reader = new StreamReader(Open("products.csv"));
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        var products = new List<Product>();
        foreach (var row in csv.GetRecords<ProductRow>())
        {
            products.Add(new Product(row.product_id, row.title, "", row.category,
                row.price, row.in_stock, Product.NoAttributes));
        }
        return products;
    }

    /// <summary>Purchases, oldest first. Event ids are stable ("uci-ORDER-PRODUCT"), so seeding twice stores them once.</summary>
    public static async IAsyncEnumerable<UserEvent> PurchasesAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        using var reader = new StreamReader(new GZipStream(Open("order_lines.csv.gz"), CompressionMode.Decompress));
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        await foreach (var row in csv.GetRecordsAsync<OrderLineRow>(ct))
        {
            var at = DateTimeOffset.ParseExact(row.occurred_at, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            yield return new UserEvent($"uci-{row.order_id}-{row.product_id}", EventType.Purchase, row.user_id, row.product_id,
                row.quantity, row.price, at, null, row.order_id);
        }
    }

    private static Stream Open(string name) =>
        typeof(SampleCatalog).Assembly.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"Sample resource {name} is missing from the build.");

#pragma warning disable IDE1006, CA1707 // property names mirror the CSV header
    private sealed record ProductRow(string product_id, string title, string category, double price, bool in_stock);

    private sealed record OrderLineRow(string order_id, string user_id, string occurred_at, string product_id, int quantity, double price);
#pragma warning restore IDE1006, CA1707
}
