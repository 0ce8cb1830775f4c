using Recommend.Core.Catalog;
using Recommend.Core.Vectors;

namespace Recommend.Core.Tests.Catalog;

public class ProductTests
{
    private static readonly Product Mug = new("m1", "Red mug", "Stoneware", "Kitchen", 3.5, true, Product.NoAttributes);

    [Fact]
    public void The_embedded_text_is_the_title_and_any_description()
    {
        Assert.Equal("Red mug\nStoneware", Mug.EmbeddingText);
        Assert.Equal("Red mug", (Mug with { Description = "  " }).EmbeddingText);
    }

    [Fact]
    public void The_content_fingerprint_changes_with_what_the_index_holds_and_nothing_else()
    {
        var fingerprint = Mug.ContentFingerprint();

        Assert.Equal("m1", fingerprint.ProductId);
        Assert.Equal(fingerprint, (Mug with { Attributes = new Dictionary<string, string> { ["colour"] = "red" } }).ContentFingerprint());
        Assert.NotEqual(fingerprint.Hash, (Mug with { Title = "Blue mug" }).ContentFingerprint().Hash);
        Assert.NotEqual(fingerprint.Hash, (Mug with { Category = "Gifts" }).ContentFingerprint().Hash);
        Assert.NotEqual(fingerprint.Hash, (Mug with { Price = 3.51 }).ContentFingerprint().Hash);
        Assert.NotEqual(fingerprint.Hash, (Mug with { InStock = false }).ContentFingerprint().Hash);
    }

    [Fact]
    public void Filters_apply_to_every_field_they_name()
    {
        Assert.True(Mug.Passes(ProductFilter.None));
        Assert.True(Mug.Passes(ProductFilter.None with { Categories = ["Kitchen"], MinPrice = 3.5, MaxPrice = 3.5, InStockOnly = true }));
        Assert.False(Mug.Passes(ProductFilter.None with { Categories = ["kitchen"] })); // categories match exactly
        Assert.False(Mug.Passes(ProductFilter.None with { MaxPrice = 3.49 }));
        Assert.False(Mug.Passes(ProductFilter.None with { MinPrice = 3.51 }));
        Assert.False((Mug with { InStock = false }).Passes(ProductFilter.None with { InStockOnly = true }));
        Assert.False(Mug.Passes(ProductFilter.None.Excluding(["m1"])));
        Assert.True(Mug.Passes(ProductFilter.None with { ExcludeProductIds = new HashSet<string> { "m2" } }));
    }

    [Fact]
    public void Its_vector_record_carries_the_payload_the_index_filters_on()
    {
        float[] vector = [0.6f, 0.8f];
        var record = Mug.ToVectorRecord(vector);

        Assert.Equal(new VectorRecord("m1", vector, "Kitchen", 3.5, true, "Red mug"), record);
    }
}
