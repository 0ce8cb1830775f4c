namespace Recommend.Qdrant.Tests;

public sealed class PointIdsTests
{
    /// <summary>Expected values from Python's uuid.uuid5 with the same namespace: an independent implementation of RFC 9562.</summary>
    [Theory]
    [InlineData("85123A", "a64d5e59-83c7-55ab-979b-de05886e5ee2")]
    [InlineData("85123a", "24e4c2a0-b310-5cff-8544-c9e45b0f2093")]
    [InlineData("", "2ece4930-a279-5271-a845-7f668b07d222")]
    [InlineData("ü-商品", "97c5615e-2cc6-56aa-a746-54d10105aeb6")]
    public void Product_ids_map_to_the_rfc_version_5_uuid(string productId, string expected)
    {
        Assert.Equal(Guid.Parse(expected), PointIds.ForProduct(productId));
    }

    [Fact]
    public void The_same_id_always_maps_to_the_same_uuid()
    {
        Assert.Equal(PointIds.ForProduct("85123A"), PointIds.ForProduct(new string("85123A".ToCharArray())));
    }

    [Fact]
    public void Different_ids_map_to_different_version_5_uuids()
    {
        var ids = Enumerable.Range(0, 20_000).Select(i => $"{i:D5}{(char)('A' + i % 3)}").ToList();

        var uuids = ids.Select(PointIds.ForProduct).ToList();

        Assert.Equal(ids.Count, uuids.Distinct().Count());
        Assert.All(uuids, uuid =>
        {
            var text = uuid.ToString("D");
            Assert.Equal('5', text[14]);
            Assert.Contains(text[19], "89ab");
        });
    }
}
