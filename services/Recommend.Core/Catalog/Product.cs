namespace Recommend.Core.Catalog;

/// <summary>A sellable item as the storefront knows it. Ids are the storefront's own strings.</summary>
public sealed record Product(
    string Id,
    string Title,
    string Description,
    string Category,
    double Price,
    bool InStock,
    IReadOnlyDictionary<string, string> Attributes)
{
    public static readonly IReadOnlyDictionary<string, string> NoAttributes = new Dictionary<string, string>();

    /// <summary>The text that is embedded for this product (documents get no instruction prefix).</summary>
    public string EmbeddingText =>
        string.IsNullOrWhiteSpace(Description) ? Title
        : $"{Title}\n{Description}";
}
