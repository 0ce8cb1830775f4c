using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Recommend.Core.Catalog;

namespace Recommend.Indexing.Sources;

/// <summary>A JSONL catalog export: one object per line (product_id, title, description, category, price, in_stock, attributes).</summary>
internal static class JsonLinesProducts
{
    public static async Task<long> CountAsync(string path, CancellationToken ct)
    {
        long rows = 0;
        using var reader = SourceText.Open(path);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line)) rows++;
        }
        return rows;
    }

    public static async IAsyncEnumerable<SourceRow> ReadAsync(string path, long afterLine, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = SourceText.Open(path);
        long line = 0;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (line <= afterLine || string.IsNullOrWhiteSpace(text)) continue;
            yield return Parse(line, text);
        }
    }

    internal static SourceRow Parse(long line, string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return SourceRow.Rejected(line, "", "not a JSON object");
            var id = Text(root, "product_id");
            if (!root.TryGetProperty("price", out var priceElement)) return SourceRow.Rejected(line, id, "missing price");
            double? price = priceElement.ValueKind switch
            {
                JsonValueKind.Number => priceElement.GetDouble(),
                JsonValueKind.String => SourceRow.ParsePrice(priceElement.GetString()),
                _ => null,
            };
            if (price is null) return SourceRow.Rejected(line, id, $"bad price {SourceRow.Excerpt(priceElement.GetRawText())}");
            var inStock = !root.TryGetProperty("in_stock", out var stock) || stock.ValueKind != JsonValueKind.False;
            var attributes = root.TryGetProperty("attributes", out var attrs) && attrs.ValueKind == JsonValueKind.Object
                ? attrs.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString())
                : new Dictionary<string, string>();
            var product = new Product(id, Text(root, "title").Trim(), Text(root, "description"), Text(root, "category"), price.Value, inStock, attributes);
            return SourceRow.Checked(line, Lines.Position(line), product);
        }
        catch (JsonException e)
        {
            return SourceRow.Rejected(line, "", $"malformed JSON: {e.Message}");
        }
    }

    private static string Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Number => value.GetRawText(),
            _ => "",
        } : "";
}
