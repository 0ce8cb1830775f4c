using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using Recommend.Core.Catalog;

namespace Recommend.Indexing.Sources;

/// <summary>
/// A CSV catalog export (RFC 4180, read by CsvHelper): a header naming at least product_id, title and price, optionally
/// description, category, in_stock and attributes (a JSON object of strings). Column names are matched case-insensitively.
/// </summary>
internal static class CsvProducts
{
    private static readonly string[] RequiredColumns = ["product_id", "title", "price"];

    private static readonly CsvConfiguration Configuration = new(CultureInfo.InvariantCulture)
    {
        PrepareHeaderForMatch = args => args.Header.Trim().ToLowerInvariant(),
        IgnoreBlankLines = true,
        // A malformed field is reported on its row (bad price, bad in_stock), not as an exception for the whole file.
        BadDataFound = null,
        MissingFieldFound = null,
    };

    /// <summary>Records (not lines: a quoted field may span lines), less the header.</summary>
    public static async Task<long> CountAsync(string path, CancellationToken ct)
    {
        using var reader = SourceText.Open(path);
        using var csv = new CsvReader(reader, Configuration);
        long rows = 0;
        while (await csv.ReadAsync())
        {
            ct.ThrowIfCancellationRequested();
            rows++;
        }
        return Math.Max(0, rows - 1);
    }

    /// <summary>Records whose first line comes after <paramref name="afterLine"/>, each with that line's number.</summary>
    public static async IAsyncEnumerable<SourceRow> ReadAsync(string path, long afterLine, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = SourceText.Open(path);
        using var csv = new CsvReader(reader, Configuration);
        if (!await csv.ReadAsync()) yield break;
        csv.ReadHeader();
        var columns = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToHashSet();
        if (RequiredColumns.FirstOrDefault(c => !columns.Contains(c)) is { } missing)
            throw new FormatException($"{Path.GetFileName(path)}: the CSV header has no '{missing}' column");
        while (await csv.ReadAsync())
        {
            ct.ThrowIfCancellationRequested();
            // RawRow is the record's last line; a quoted field may have spanned several, so count back to its first.
            var line = csv.Parser.RawRow - CountLineBreaks(csv.Parser.RawRecord.TrimEnd('\r', '\n'));
            if (line <= afterLine) continue;
            yield return Parse(line, csv);
        }
    }

    private static int CountLineBreaks(string text) => text.Count(c => c == '\n');

    private static SourceRow Parse(long line, CsvReader csv)
    {
        string Field(string name) => csv.TryGetField<string>(name, out var value) ? value ?? "" : "";
        var id = Field("product_id").Trim();
        if (SourceRow.ParsePrice(Field("price")) is not { } price) return SourceRow.Rejected(line, id, $"bad price '{SourceRow.Excerpt(Field("price"))}'");
        var stockText = Field("in_stock").Trim().ToLowerInvariant();
        if (stockText is not ("" or "true" or "false" or "1" or "0" or "yes" or "no")) return SourceRow.Rejected(line, id, $"bad in_stock '{SourceRow.Excerpt(stockText)}'");
        Dictionary<string, string> attributes = [];
        if (Field("attributes") is { Length: > 0 } json)
        {
            try
            {
                attributes = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
            }
            catch (JsonException)
            {
                return SourceRow.Rejected(line, id, "attributes is not a JSON object of strings");
            }
        }
        var product = new Product(id, Field("title").Trim(), Field("description"), Field("category"), price,
            stockText is "" or "true" or "1" or "yes", attributes);
        return SourceRow.Checked(line, Lines.Position(line), product);
    }
}
