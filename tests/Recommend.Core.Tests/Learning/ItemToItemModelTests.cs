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

    [Fact]
    public void A_builder_fed_row_by_row_makes_the_same_model_and_grows_past_its_size_hint()
    {
        var builder = new ItemToItemModel.Builder(sources: 0, entries: 0);
        builder.StartRow("mug");
        foreach (var (id, weight) in new[] { ("cup", 0.9f), ("saucer", 0.4f), ("teapot", -0.2f) }) builder.Add(id.AsSpan(), weight);
        builder.StartRow("cup");
        builder.Add("mug", 0.8f);

        var built = builder.Build(Info);
        var expected = Model();

        Assert.Equal(expected.Sources, built.Sources);
        Assert.Equal(expected.Size, built.Size);
        Assert.Equal(Enumerable.Range(0, expected.Size).Select(expected.ProductAt), Enumerable.Range(0, built.Size).Select(built.ProductAt));
        foreach (var source in expected.Sources) Assert.Equal(expected.NeighboursOf(source), built.NeighboursOf(source));
        Assert.False(built.TryGetRow("saucer", out _, out _));
    }

    [Fact]
    public void A_builder_refuses_a_neighbour_before_any_row_and_a_second_row_for_a_product()
    {
        var builder = new ItemToItemModel.Builder(sources: 2, entries: 2);
        Assert.Throws<InvalidOperationException>(() => builder.Add("cup", 0.5f));
        builder.StartRow("mug");
        builder.Add("cup", 0.5f);
        builder.StartRow("mug");

        var error = Assert.Throws<InvalidOperationException>(() => builder.Build(Info));
        Assert.Contains("'mug'", error.Message);
    }
}
