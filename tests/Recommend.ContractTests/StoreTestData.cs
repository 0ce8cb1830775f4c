using Recommend.Core.Catalog;
using Recommend.Core.History;
using Xunit;

namespace Recommend.ContractTests;

/// <summary>Builders and reference computations for <see cref="StoreContract{TStore}"/>.</summary>
internal static class StoreTestData
{
    /// <summary>Whole seconds: every backend stores at least millisecond precision.</summary>
    public static readonly DateTimeOffset Noon = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static Product CatalogItem(string id, string category = "general", string title = "", double price = 10) =>
        new(id, title.Length > 0 ? title : $"Product {id}", $"Description of {id}", category, price, true, Product.NoAttributes);

    public static UserEvent Purchase(string eventId, string user, string product, DateTimeOffset at, string? order, int quantity = 1) =>
        new(eventId, EventType.Purchase, user, product, quantity, 2.5, at, null, order);

    public static UserEvent Interaction(string eventId, EventType type, string user, string product, DateTimeOffset at) =>
        new(eventId, type, user, product, 1, 2.5, at, "rec-1", null);

    /// <summary>The popularity key the port defines, folded over events in the order given.</summary>
    public static double ExpectedKey(IEnumerable<UserEvent> events) =>
        events.Aggregate(double.NegativeInfinity,
            (key, e) => Popularity.LogAddExp(key, Popularity.Key(e.OccurredAt, Popularity.EventWeight(e.Type, e.Quantity))));

    /// <summary>Co-purchase rows computed from scratch: per ordered pair, the baskets holding both products.</summary>
    public static Dictionary<(string Source, string Neighbour), CoPurchase> ExpectedCoPurchases(IEnumerable<UserEvent> events)
    {
        var baskets = events
            .Where(e => e.Type == EventType.Purchase)
            .DistinctBy(e => e.EventId)
            .GroupBy(e => e.BasketKey)
            .Select(basket => basket.Select(e => e.ProductId).ToHashSet())
            .ToList();
        var basketsPerProduct = baskets.SelectMany(b => b).GroupBy(p => p).ToDictionary(g => g.Key, g => (long)g.Count());
        return baskets
            .SelectMany(basket => basket.SelectMany(a => basket.Where(b => b != a).Select(b => (Source: a, Neighbour: b))))
            .GroupBy(pair => pair)
            .ToDictionary(
                g => g.Key,
                g => new CoPurchase(g.Key.Source, g.Key.Neighbour, g.Count(), basketsPerProduct[g.Key.Source], basketsPerProduct[g.Key.Neighbour]));
    }

    public static void AssertSameProduct(Product expected, Product actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Title, actual.Title);
        Assert.Equal(expected.Description, actual.Description);
        Assert.Equal(expected.Category, actual.Category);
        Assert.Equal(expected.Price, actual.Price);
        Assert.Equal(expected.InStock, actual.InStock);
        Assert.Equal(
            expected.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal),
            actual.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal));
    }

    public static void AssertBitwiseEqual(float[] expected, float[] actual) =>
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
}
