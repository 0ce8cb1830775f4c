using Recommend.Indexing.Jobs;
using Recommend.Indexing.Sharding;

namespace Recommend.Indexing.Pipeline;

/// <summary>One run of a claimed unit: the job it belongs to (its target set once chosen) and the lease it holds.</summary>
internal sealed class RunContext(ReindexJob job, LeaseKeeper lease)
{
    public ReindexJob Job { get; set; } = job;

    public LeaseKeeper Lease { get; } = lease;

    /// <summary>The shard this run is, or null for a whole job.</summary>
    public int? Shard => Lease.Unit.Shard;

    /// <summary>Whether the product is this run's to index: all are, unless it runs one shard.</summary>
    public bool Owns(string productId) => Shard is not { } index || ShardKey.Of(productId, Job.ShardCount) == index;
}
