using System.Globalization;
using Recommend.Core.Catalog;
using Recommend.Indexing.Jobs;

namespace Recommend.Indexing.Sources;

/// <summary>One row read from a source: a valid product, or the reason it was rejected.</summary>
/// <param name="Line">1-based file line, or the row's ordinal in the store.</param>
/// <param name="Position">What a checkpoint records to resume after this row (product id or line number).</param>
public sealed record SourceRow(long Line, string Position, Product? Product, SourceRowError? Error)
{
    private const int MaxIdLength = 128;

    /// <summary>The id the row is about, valid or not (sharding routes bad rows by it too).</summary>
    public string ProductId => Product?.Id ?? Error?.ProductId ?? "";

    /// <summary>The checks every source shares, so a store row and a file row are held to the same rules.</summary>
    public static SourceRow Checked(long line, string position, Product product)
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
            : new SourceRow(line, position, null, new SourceRowError(line, Excerpt(product.Id, MaxIdLength), problem));
    }

    /// <summary>A file row that could not be read as a product; it resumes after its line like any other.</summary>
    public static SourceRow Rejected(long line, string productId, string problem) =>
        new(line, Lines.Position(line), null, new SourceRowError(line, Excerpt(productId, MaxIdLength), problem));

    /// <summary>A cell quoted in an error, cut short: errors travel to clients and into the job store.</summary>
    public static string Excerpt(string? value, int length = 40) =>
        value is null ? "" : value.Length <= length ? value : string.Concat(value.AsSpan(0, length), "…");

    public static double? ParsePrice(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var price) && double.IsFinite(price) && price >= 0 ? price : null;
}

/// <summary>File sources checkpoint by line number.</summary>
internal static class Lines
{
    public static string Position(long line) => line.ToString(CultureInfo.InvariantCulture);

    public static long After(string? checkpoint) => checkpoint is null ? 0 : long.Parse(checkpoint, CultureInfo.InvariantCulture);
}
