using Qdrant.Client.Grpc;
using Recommend.Core.Catalog;
using Recommend.Core.Vectors;

namespace Recommend.Qdrant;

/// <summary>The payload each point carries, and the hard filters translated onto it.</summary>
internal static class PayloadFields
{
    public const string ProductId = "product_id";
    public const string Category = "category";
    public const string Price = "price";
    public const string InStock = "in_stock";
    public const string Title = "title";

    /// <summary>The fields filters touch, with the index type Qdrant needs to filter on them without a full scan.</summary>
    public static readonly IReadOnlyList<(string Field, PayloadSchemaType Type)> Indexed =
    [
        (ProductId, PayloadSchemaType.Keyword),
        (Category, PayloadSchemaType.Keyword),
        (Price, PayloadSchemaType.Float),
        (InStock, PayloadSchemaType.Bool),
    ];

    public static Filter? ToQdrant(ProductFilter filter)
    {
        var result = new Filter();
        if (filter.Categories.Count > 0)
            result.Must.Add(Conditions.Match(Category, filter.Categories.ToList()));
        if (filter.MinPrice is not null || filter.MaxPrice is not null)
        {
            var range = new global::Qdrant.Client.Grpc.Range();
            if (filter.MinPrice is { } min) range.Gte = min;
            if (filter.MaxPrice is { } max) range.Lte = max;
            result.Must.Add(Conditions.Range(Price, range));
        }
        if (filter.InStockOnly)
            result.Must.Add(Conditions.Match(InStock, true));
        if (filter.ExcludeProductIds.Count > 0)
            result.MustNot.Add(Conditions.HasId(filter.ExcludeProductIds.Select(PointIds.ForProduct).ToList()));
        return result.Must.Count + result.MustNot.Count == 0 ? null : result;
    }
}
