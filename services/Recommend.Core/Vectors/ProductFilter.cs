namespace Recommend.Core.Vectors;

/// <summary>Hard filters on the payload a vector index holds: a product either passes or is never shown.</summary>
public sealed record ProductFilter(
    IReadOnlyCollection<string> Categories,
    double? MinPrice,
    double? MaxPrice,
    bool InStockOnly,
    IReadOnlyCollection<string> ExcludeProductIds)
{
    public static readonly ProductFilter None = new([], null, null, false, []);

    public bool Matches(string productId, string category, double price, bool inStock) =>
        (Categories.Count == 0 || Contains(Categories, category))
        && (MinPrice is not { } min || price >= min)
        && (MaxPrice is not { } max || price <= max)
        && (!InStockOnly || inStock)
        && !Excludes(productId);

    /// <summary>Whether this filter only excludes named products, so a product's payload cannot fail it.</summary>
    public bool ExcludesOnly => Categories.Count == 0 && MinPrice is null && MaxPrice is null && !InStockOnly;

    public bool Excludes(string productId) => Contains(ExcludeProductIds, productId);

    /// <summary>A set answers in O(1); Enumerable.Contains with a comparer would scan it (this runs per index row).</summary>
    private static bool Contains(IReadOnlyCollection<string> values, string value) =>
        values is IReadOnlySet<string> set ? set.Contains(value) : values.Contains(value, StringComparer.Ordinal);

    /// <summary>The same filter that also excludes <paramref name="more"/>.</summary>
    public ProductFilter Excluding(IEnumerable<string> more) =>
        this with { ExcludeProductIds = ExcludeProductIds.Union(more, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal) };
}
