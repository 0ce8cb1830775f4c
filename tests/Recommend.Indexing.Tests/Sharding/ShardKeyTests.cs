using Recommend.Indexing.Sharding;

namespace Recommend.Indexing.Tests.Sharding;

public class ShardKeyTests
{
    /// <summary>Expected values computed independently (FNV-1a 64 over UTF-8, modulo the shard count).</summary>
    [Theory]
    [InlineData("85123A", 4, 1)]
    [InlineData("85123A", 7, 2)]
    [InlineData("p0001", 4, 0)]
    [InlineData("p0001", 7, 6)]
    [InlineData(" teapot", 4, 2)]
    [InlineData("ü-mug", 7, 6)]
    public void A_product_always_falls_in_the_same_shard_on_every_platform(string productId, int shardCount, int expected)
    {
        Assert.Equal(expected, ShardKey.Of(productId, shardCount));
    }

    [Fact]
    public void Shards_share_a_catalog_roughly_evenly()
    {
        var counts = new int[4];
        for (var i = 0; i < 40_000; i++) counts[ShardKey.Of($"p{i:D6}", 4)]++;

        Assert.All(counts, count => Assert.InRange(count, 9_000, 11_000));
    }
}
