using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using Recommend.Core.History;

namespace Recommend.Import;

/// <summary>
/// Reads a history export in file order. The generic layout (CSV header or JSONL fields): <c>user_id</c>,
/// <c>product_id</c>, <c>occurred_at</c> (ISO-8601, or Unix seconds), and optionally <c>event_id</c>, <c>type</c>
/// (purchase, view, click, add_to_cart; default purchase), <c>order_id</c>, <c>quantity</c> (default 1) and
/// <c>price</c>. A CSV whose header has InvoiceNo, StockCode and CustomerID is read as the raw UCI transactions layout.
/// </summary>
public static class HistoryFile
{
    internal static readonly CsvConfiguration Csv = new(CultureInfo.InvariantCulture)
    {
        PrepareHeaderForMatch = args => args.Header.Trim().ToLowerInvariant(),
        IgnoreBlankLines = true,
        BadDataFound = null,
        MissingFieldFound = null,
    };

    public static async IAsyncEnumerable<HistoryRow> ReadAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!ImportFile.IsCsv(path))
        {
            await foreach (var row in JsonLinesAsync(path, ct)) yield return row;
            yield break;
        }
        using var reader = ImportFile.OpenText(path);
        using var csv = new CsvReader(reader, Csv);
        if (!await csv.ReadAsync()) yield break;
        csv.ReadHeader();
        var columns = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToHashSet();
        var uci = UciTransactions.IsLayout(columns);
        if (!uci && new[] { "user_id", "product_id", "occurred_at" }.FirstOrDefault(c => !columns.Contains(c)) is { } missing)
            throw new ImportException($"{path}: the CSV header has no '{missing}' column (generic layout) and is not the UCI transactions layout");
        while (await csv.ReadAsync())
        {
            ct.ThrowIfCancellationRequested();
            var line = csv.Parser.RawRow;
            string Field(string name) => csv.TryGetField<string>(name, out var value) ? value?.Trim() ?? "" : "";
            yield return uci ? UciTransactions.Event(line, Field) : Generic(line, Field);
        }
    }

    private static async IAsyncEnumerable<HistoryRow> JsonLinesAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = ImportFile.OpenText(path);
        long line = 0;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            if (TryParse(text) is not { } document)
            {
                yield return HistoryRow.Reject(line, "malformed JSON");
                continue;
            }
            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    yield return HistoryRow.Reject(line, "not a JSON object");
                    continue;
                }
                var root = document.RootElement;
                yield return Generic(line, name => root.TryGetProperty(name, out var value)
                    ? value.ValueKind == JsonValueKind.String ? value.GetString()!.Trim() : value.ValueKind is JsonValueKind.Null ? "" : value.GetRawText()
                    : "");
            }
        }
    }

    private static JsonDocument? TryParse(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static HistoryRow Generic(long line, Func<string, string> field)
    {
        var user = field("user_id");
        var product = field("product_id");
        if (user.Length == 0) return HistoryRow.Reject(line, "missing user_id");
        if (product.Length == 0) return HistoryRow.Reject(line, "missing product_id");
        if (!TryParseTime(field("occurred_at"), out var at)) return HistoryRow.Reject(line, $"bad occurred_at '{Excerpt(field("occurred_at"))}'");
        EventType? type = field("type").ToLowerInvariant() switch
        {
            "" or "purchase" => EventType.Purchase,
            "view" => EventType.View,
            "click" => EventType.Click,
            "add_to_cart" => EventType.AddToCart,
            _ => null,
        };
        if (type is null) return HistoryRow.Reject(line, $"bad type '{Excerpt(field("type"))}' (purchase, view, click or add_to_cart)");
        var quantityText = field("quantity");
        var quantity = 1;
        if (quantityText.Length > 0 && (!int.TryParse(quantityText, NumberStyles.Integer, CultureInfo.InvariantCulture, out quantity) || quantity < 0))
            return HistoryRow.Reject(line, $"bad quantity '{Excerpt(quantityText)}'");
        var priceText = field("price");
        var price = 0.0;
        if (priceText.Length > 0 && (!double.TryParse(priceText, NumberStyles.Float, CultureInfo.InvariantCulture, out price) || !double.IsFinite(price) || price < 0))
            return HistoryRow.Reject(line, $"bad price '{Excerpt(priceText)}'");
        var order = field("order_id");
        var id = field("event_id") is { Length: > 0 } given ? given : DerivedId(type.Value, user, product, at, order);
        return HistoryRow.Kept(line, new UserEvent(id, type.Value, user, product, quantity == 0 ? 1 : quantity, price, at, null, order.Length > 0 ? order : null));
    }

    /// <summary>
    /// The idempotency key of a row without an event_id: the order line when there is an order, else a hash of what
    /// the row says. Re-importing the same export therefore stores nothing twice.
    /// </summary>
    private static string DerivedId(EventType type, string user, string product, DateTimeOffset at, string order)
    {
        if (order.Length > 0 && type == EventType.Purchase) return $"{order}-{product}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{type}\n{user}\n{product}\n{at.ToUnixTimeMilliseconds()}\n{order}"));
        return "h-" + Convert.ToHexString(hash, 0, 16).ToLowerInvariant();
    }

    internal static bool TryParseTime(string text, out DateTimeOffset at)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and < 100_000_000_000)
        {
            at = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }
        // Times without a zone are read as UTC, so a basket keeps its day.
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);
    }

    internal static string Excerpt(string value) => value.Length <= 40 ? value : string.Concat(value.AsSpan(0, 40), "…");
}
