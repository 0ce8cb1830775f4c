using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Recommend.Core.Catalog;

namespace Recommend.Core.Reindexing;

/// <summary>One row read from a source: a valid product, or the reason it was rejected.</summary>
/// <param name="Line">1-based file line, or the row's ordinal in the store.</param>
/// <param name="Position">What a checkpoint records to resume after this row (product id or line number).</param>
public sealed record SourceRow(long Line, string Position, Product? Product, SourceRowError? Error);

/// <summary>
/// Where a job reads products from: the store's products table, or a server-side JSONL/CSV file that is a full catalog
/// export (fields product_id, title, description, category, price, in_stock[, attributes]).
/// </summary>
public abstract record ProductSource
{
    public const string StoreName = "store";
    private const string FilePrefix = "file:";
    private const int MaxIdLength = 128;

    public sealed record Store : ProductSource;

    public sealed record File(string Path, bool IsCsv) : ProductSource;

    /// <exception cref="FormatException">Not "store" or "file:PATH" with a .jsonl/.ndjson/.csv path.</exception>
    public static ProductSource Parse(string? source)
    {
        if (string.IsNullOrWhiteSpace(source) || source == StoreName) return new Store();
        if (!source.StartsWith(FilePrefix, StringComparison.Ordinal))
            throw new FormatException($"'{source}' is neither \"{StoreName}\" nor \"{FilePrefix}PATH\"");
        var path = source[FilePrefix.Length..];
        if (!System.IO.Path.IsPathFullyQualified(path)) throw new FormatException($"'{path}' is not an absolute server-side path");
        var extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".jsonl" or ".ndjson" or ".csv")) throw new FormatException($"'{path}' must end in .jsonl, .ndjson or .csv");
        return new File(path, extension == ".csv");
    }

    /// <summary>Source rows, for progress totals: non-blank lines (less the CSV header), or the store's product count.</summary>
    public async Task<long> CountRowsAsync(ICatalogStore catalog, CancellationToken ct)
    {
        if (this is not File file) return await catalog.CountProductsAsync(ct);
        long rows = 0;
        using var reader = new StreamReader(file.Path, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line)) rows++;
        }
        return file.IsCsv ? Math.Max(0, rows - 1) : rows;
    }

    /// <summary>Rows after <paramref name="checkpoint"/> (a position from an earlier run), in source order.</summary>
    public IAsyncEnumerable<SourceRow> ReadAsync(ICatalogStore catalog, string? checkpoint, CancellationToken ct) => this switch
    {
        File { IsCsv: true } csv => ReadCsvAsync(csv.Path, ResumeLine(checkpoint), ct),
        File jsonl => ReadJsonLinesAsync(jsonl.Path, ResumeLine(checkpoint), ct),
        _ => ReadStoreAsync(catalog, checkpoint, ct),
    };

    private static long ResumeLine(string? checkpoint) => checkpoint is null ? 0 : long.Parse(checkpoint, CultureInfo.InvariantCulture);

    /// <summary>The store's products in id order; rows up to the checkpoint are read past, not re-processed.</summary>
    public static async IAsyncEnumerable<SourceRow> ReadStoreAsync(ICatalogStore catalog, string? afterId, [EnumeratorCancellation] CancellationToken ct)
    {
        long ordinal = 0;
        await foreach (var product in catalog.ScanProductsAsync(ct))
        {
            ordinal++;
            if (afterId is not null && string.CompareOrdinal(product.Id, afterId) <= 0) continue;
            yield return Checked(ordinal, product.Id, product);
        }
    }

    private static async IAsyncEnumerable<SourceRow> ReadJsonLinesAsync(string path, long afterLine, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        long line = 0;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (line <= afterLine || string.IsNullOrWhiteSpace(text)) continue;
            yield return ParseJsonLine(line, text);
        }
    }

    private static SourceRow ParseJsonLine(long line, string text)
    {
        var position = line.ToString(CultureInfo.InvariantCulture);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Rejected(line, "", "not a JSON object");
            var id = Text(root, "product_id");
            if (!root.TryGetProperty("price", out var priceElement)) return Rejected(line, id, "missing price");
            double? price = priceElement.ValueKind switch
            {
                JsonValueKind.Number => priceElement.GetDouble(),
                JsonValueKind.String => ParsePrice(priceElement.GetString()),
                _ => null,
            };
            if (price is null) return Rejected(line, id, $"bad price {priceElement.GetRawText()}");
            var inStock = !root.TryGetProperty("in_stock", out var stock) || stock.ValueKind != JsonValueKind.False;
            var attributes = root.TryGetProperty("attributes", out var attrs) && attrs.ValueKind == JsonValueKind.Object
                ? attrs.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString())
                : new Dictionary<string, string>();
            return Checked(line, position, new Product(id, Text(root, "title").Trim(), Text(root, "description"), Text(root, "category"), price.Value, inStock, attributes));
        }
        catch (JsonException e)
        {
            return Rejected(line, "", $"malformed JSON: {e.Message}");
        }
    }

    private static string Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Number => value.GetRawText(),
            _ => "",
        } : "";

    /// <summary>One record per line (quoted fields may hold commas and doubled quotes, not line breaks); header names the columns.</summary>
    private static async IAsyncEnumerable<SourceRow> ReadCsvAsync(string path, long afterLine, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        Dictionary<string, int>? columns = null;
        long line = 0;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var fields = CsvFields(text);
            if (columns is null)
            {
                columns = fields.Select((name, i) => (name: name.Trim().ToLowerInvariant(), i)).ToDictionary(c => c.name, c => c.i);
                foreach (var required in new[] { "product_id", "title", "price" })
                {
                    if (!columns.ContainsKey(required)) throw new FormatException($"{path}: the CSV header has no '{required}' column");
                }
                continue;
            }
            if (line <= afterLine) continue;
            yield return ParseCsvRow(line, fields, columns);
        }
    }

    private static SourceRow ParseCsvRow(long line, IReadOnlyList<string> fields, Dictionary<string, int> columns)
    {
        string Field(string name) => columns.TryGetValue(name, out var i) && i < fields.Count ? fields[i] : "";
        var id = Field("product_id").Trim();
        if (ParsePrice(Field("price")) is not { } price) return Rejected(line, id, $"bad price '{Field("price")}'");
        var stockText = Field("in_stock").Trim().ToLowerInvariant();
        if (stockText is not ("" or "true" or "false" or "1" or "0" or "yes" or "no")) return Rejected(line, id, $"bad in_stock '{stockText}'");
        Dictionary<string, string> attributes = [];
        if (Field("attributes") is { Length: > 0 } json)
        {
            try
            {
                attributes = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
            }
            catch (JsonException)
            {
                return Rejected(line, id, "attributes is not a JSON object of strings");
            }
        }
        var product = new Product(id, Field("title").Trim(), Field("description"), Field("category"), price,
            stockText is "" or "true" or "1" or "yes", attributes);
        return Checked(line, line.ToString(CultureInfo.InvariantCulture), product);
    }

    private static List<string> CsvFields(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    private static double? ParsePrice(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var price) && double.IsFinite(price) && price >= 0 ? price : null;

    /// <summary>The checks every source shares, so a store row and a file row are held to the same rules.</summary>
    private static SourceRow Checked(long line, string position, Product product)
    {
        string? problem = product switch
        {
            { Id: "" } => "missing product_id",
            { Id.Length: > MaxIdLength } => $"product_id longer than {MaxIdLength} characters",
            { Title: "" } => "empty title",
            { Price: < 0 or double.NaN or double.PositiveInfinity } => $"bad price {product.Price}",
            _ => null,
        };
        return problem is null
            ? new SourceRow(line, position, product, null)
            : new SourceRow(line, position, null, new SourceRowError(line, product.Id, problem));
    }

    private static SourceRow Rejected(long line, string productId, string problem) =>
        new(line, line.ToString(CultureInfo.InvariantCulture), null, new SourceRowError(line, productId, problem));
}
