using System.Globalization;
using Recommend.Core.Embeddings;
using Recommend.Core.Vectors;

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

    /// <summary>This product's vector with the payload the index filters on.</summary>
    public VectorRecord ToVectorRecord(float[] vector) => new(Id, vector, Category, Price, InStock, Title);

    /// <summary>What the index holds for this product — its embedding text and the payload it filters on — as a hash.</summary>
    public ContentHash ContentFingerprint() => new(Id, TextHash.Of(string.Join('\u001f',
        EmbeddingText, Category, Price.ToString("R", CultureInfo.InvariantCulture), InStock ? "1" : "0")));

    public bool Passes(ProductFilter filter) => filter.Matches(Id, Category, Price, InStock);
}
