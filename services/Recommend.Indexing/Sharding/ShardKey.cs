using System.Text;

namespace Recommend.Indexing.Sharding;

/// <summary>Which shard a product belongs to: FNV-1a over its id's UTF-8 bytes, so every process and platform agrees.</summary>
public static class ShardKey
{
    public static int Of(string productId, int shardCount)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(productId))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return (int)(hash % (ulong)shardCount);
    }
}
