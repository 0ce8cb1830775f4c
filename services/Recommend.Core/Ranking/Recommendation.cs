using Recommend.Core.Catalog;
using Recommend.Core.Vectors;

namespace Recommend.Core.Ranking;

public enum ReasonKind
{
    Similar,
    BoughtTogether,
    Trending,
    History,
    Search,
    /// <summary>From the learned item-to-item model: customers who bought the related product also bought this.</summary>
    CustomersAlsoBought,
    /// <summary>The customer bought this product before (buy-again requests).</summary>
    BuyAgain,
}

/// <param name="RelatedProductId">The product that caused the reason, or null (trending, search).</param>
public sealed record Reason(ReasonKind Kind, string? RelatedProductId, string Text);

/// <param name="DetailsKnown">False when the catalog was unavailable: the item passed the filter on the index's copy of
/// its category, price and stock, but its title and price are not known and must not be shown as if they were.</param>
public sealed record RecommendedProduct(Product Product, double Score, IReadOnlyList<Reason> Reasons, bool DetailsKnown = true);

/// <param name="Degraded">A signal was unavailable and a fallback served.</param>
public sealed record RecommendationResult(
    string RecommendationId,
    IReadOnlyList<RecommendedProduct> Items,
    bool Degraded,
    string Profile);

/// <summary>What every storefront call shares.</summary>
public sealed record RequestOptions(int Limit, ProductFilter Filter, string? UserId, bool IncludePurchased, string? Placement)
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;
}
