using System.Runtime.CompilerServices;
using Recommend.Core.Catalog;

namespace Recommend.Indexing.Sources;

/// <summary>
/// Where a job reads products from: the store's products table, or a server-side JSONL/CSV file that is a full catalog
/// export (fields product_id, title, description, category, price, in_stock[, attributes]).
/// </summary>
public abstract record ProductSource
{
    public const string StoreName = "store";
    private const string FilePrefix = "file:";

    public sealed record Store : ProductSource
    {
        public override string ToString() => StoreName;
    }

    public sealed record File(string Path, bool IsCsv) : ProductSource
    {
        public override string ToString() => FilePrefix + Path;
    }

    /// <exception cref="FormatException">Not "store" or "file:PATH" with an absolute .jsonl/.ndjson/.csv path.</exception>
    public static ProductSource Parse(string? source)
    {
        if (string.IsNullOrWhiteSpace(source) || source == StoreName) return new Store();
        if (!source.StartsWith(FilePrefix, StringComparison.Ordinal))
            throw new FormatException($"must be \"{StoreName}\" or \"{FilePrefix}PATH\"");
        var path = source[FilePrefix.Length..];
        if (!System.IO.Path.IsPathFullyQualified(path)) throw new FormatException("a file source needs an absolute server-side path");
        return new File(path, IsCsvPath(path));
    }

    /// <summary>CSV or JSONL by the name under any .gz.</summary>
    /// <exception cref="FormatException">The name ends in none of .jsonl, .ndjson, .csv (optionally .gz).</exception>
    public static bool IsCsvPath(string path)
    {
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        var extension = System.IO.Path.GetExtension(name).ToLowerInvariant();
        return extension is ".jsonl" or ".ndjson" or ".csv"
            ? extension == ".csv"
            : throw new FormatException("a file source must end in .jsonl, .ndjson or .csv (optionally .gz)");
    }

    /// <summary>The products of a catalog file (gzipped or not) whose first line comes after <paramref name="afterLine"/>.</summary>
    public static IAsyncEnumerable<SourceRow> ReadFileAsync(string path, long afterLine, CancellationToken ct) =>
        IsCsvPath(path) ? CsvProducts.ReadAsync(path, afterLine, ct) : JsonLinesProducts.ReadAsync(path, afterLine, ct);

    /// <summary>Source rows, for progress totals: the file's records, or the store's product count.</summary>
    public Task<long> CountRowsAsync(ICatalogStore catalog, CancellationToken ct) => this switch
    {
        File { IsCsv: true } csv => CsvProducts.CountAsync(csv.Path, ct),
        File jsonl => JsonLinesProducts.CountAsync(jsonl.Path, ct),
        _ => catalog.CountProductsAsync(ct),
    };

    /// <summary>Rows after <paramref name="checkpoint"/> (a position from an earlier run), in source order.</summary>
    public IAsyncEnumerable<SourceRow> ReadAsync(ICatalogStore catalog, string? checkpoint, CancellationToken ct) => this switch
    {
        File { IsCsv: true } csv => CsvProducts.ReadAsync(csv.Path, Lines.After(checkpoint), ct),
        File jsonl => JsonLinesProducts.ReadAsync(jsonl.Path, Lines.After(checkpoint), ct),
        _ => ReadStoreAsync(catalog, checkpoint, ct),
    };

    /// <summary>The store's products in id order; rows up to the checkpoint (a product id) are read past, not re-processed.</summary>
    public static async IAsyncEnumerable<SourceRow> ReadStoreAsync(ICatalogStore catalog, string? afterId, [EnumeratorCancellation] CancellationToken ct)
    {
        long ordinal = 0;
        await foreach (var product in catalog.ScanProductsAsync(ct))
        {
            ordinal++;
            if (afterId is not null && string.CompareOrdinal(product.Id, afterId) <= 0) continue;
            yield return SourceRow.Checked(ordinal, product.Id, product);
        }
    }
}
