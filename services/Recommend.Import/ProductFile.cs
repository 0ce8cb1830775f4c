using System.Runtime.CompilerServices;
using CsvHelper;
using Recommend.Core.Catalog;
using Recommend.Indexing.Sources;

namespace Recommend.Import;

/// <summary>
/// Reads a catalog export: the generic layout re-indexing reads too (product_id, title, price, and optionally
/// description, category, in_stock, attributes), or the raw UCI transactions file, from which one product per
/// product-like stock code is derived (its most frequent description on kept lines, its median kept unit price).
/// Each row carries a position: its line, or for UCI its ordinal among the derived products.
/// </summary>
public static class ProductFile
{
    public static async IAsyncEnumerable<SourceRow> ReadAsync(string path, long afterPosition, [EnumeratorCancellation] CancellationToken ct)
    {
        if (ImportFile.IsCsv(path) && await IsUciAsync(path))
        {
            long ordinal = 0;
            foreach (var product in await UciProductsAsync(path, ct))
            {
                if (++ordinal > afterPosition) yield return SourceRow.Checked(ordinal, ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), product);
            }
            yield break;
        }
        await foreach (var row in ProductSource.ReadFileAsync(path, afterPosition, ct)) yield return row;
    }

    /// <summary>The last position a full read reaches: the derived product count for UCI, else the file's line count.</summary>
    public static async Task<long> CountPositionsAsync(string path, CancellationToken ct) =>
        ImportFile.IsCsv(path) && await IsUciAsync(path) ? (await UciProductsAsync(path, ct)).Count : await ImportFile.CountLinesAsync(path, ct);

    private static async Task<bool> IsUciAsync(string path)
    {
        using var reader = ImportFile.OpenText(path);
        using var csv = new CsvReader(reader, HistoryFile.Csv);
        return await csv.ReadAsync() && csv.ReadHeader() && UciTransactions.IsLayout(csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToHashSet());
    }

    private static async Task<List<Product>> UciProductsAsync(string path, CancellationToken ct)
    {
        var descriptions = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var prices = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        await foreach (var row in ReadUciLinesAsync(path, ct))
        {
            if (!UciTransactions.ProductCode().IsMatch(row.Code) || row.Description.Length == 0) continue;
            // Descriptions on kept purchase lines win over stock notes ("damaged", "found") on other lines.
            var weight = row.Kept is not null ? 1_000_000 : 1;
            var counts = descriptions.TryGetValue(row.Code, out var seen) ? seen : descriptions[row.Code] = new Dictionary<string, int>(StringComparer.Ordinal);
            counts[row.Description] = counts.GetValueOrDefault(row.Description) + weight;
            if (row.Kept is { } kept)
                (prices.TryGetValue(row.Code, out var list) ? list : prices[row.Code] = []).Add(kept.Price);
        }
        return descriptions
            .OrderBy(d => d.Key, StringComparer.Ordinal)
            .Select(d => new Product(
                d.Key,
                d.Value.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).First().Key,
                "", "", prices.TryGetValue(d.Key, out var list) ? Median(list) : 0, true, Product.NoAttributes))
            .ToList();
    }

    private sealed record UciLine(string Code, string Description, Core.History.UserEvent? Kept);

    private static async IAsyncEnumerable<UciLine> ReadUciLinesAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = ImportFile.OpenText(path);
        using var csv = new CsvReader(reader, HistoryFile.Csv);
        await csv.ReadAsync();
        csv.ReadHeader();
        while (await csv.ReadAsync())
        {
            ct.ThrowIfCancellationRequested();
            string Field(string name) => csv.TryGetField<string>(name, out var value) ? value?.Trim() ?? "" : "";
            yield return new UciLine(Field("stockcode"), Field("description"), UciTransactions.Event(csv.Parser.RawRow, Field).Event);
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        var middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }
}
