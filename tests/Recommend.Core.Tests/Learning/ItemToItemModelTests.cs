using Recommend.Core.Learning;

namespace Recommend.Core.Tests.Learning;

public class ItemToItemModelTests
{
    private static readonly ItemModelInfo Info = new(7, DateTimeOffset.UnixEpoch, "test", 2, 4, 10, TimeSpan.Zero);

    private static ItemToItemModel Model() => new(Info, new Dictionary<string, ItemNeighbour[]>(StringComparer.Ordinal)
    {
        ["mug"] = [new("cup", 0.9f), new("saucer", 0.4f), new("teapot", -0.2f)],
        ["cup"] = [new("mug", 0.8f)],
    });

    [Fact]
    public void Rows_read_back_in_their_order_and_products_seen_only_as_neighbours_have_none()
    {
        var model = Model();

        Assert.Equal([new ItemNeighbour("cup", 0.9f), new("saucer", 0.4f), new("teapot", -0.2f)], model.NeighboursOf("mug"));
        Assert.Equal([new ItemNeighbour("mug", 0.8f)], model.NeighboursOf("cup"));
        Assert.Empty(model.NeighboursOf("saucer"));
        Assert.Empty(model.NeighboursOf("unknown"));
        Assert.False(model.TryGetRow("teapot", out _, out _));
        Assert.Equal(["mug", "cup"], model.Sources);
        Assert.Equal(2, model.SourceCount);
        Assert.Equal(4, model.Size);
    }

    [Fact]
    public void A_row_names_its_neighbours_by_position()
    {
        var model = Model();

        Assert.True(model.TryGetRow("mug", out var positions, out var weights));
        Assert.Equal(["cup", "saucer", "teapot"], positions.ToArray().Select(model.ProductAt));
        Assert.Equal([0.9f, 0.4f, -0.2f], weights.ToArray());
    }

    [Fact]
    public void A_new_description_shares_the_neighbours()
    {
        var model = Model();

        var published = model.WithInfo(Info with { Version = 8 });

        Assert.Equal(8, published.Info.Version);
        Assert.Equal(model.NeighboursOf("mug"), published.NeighboursOf("mug"));
    }
}
