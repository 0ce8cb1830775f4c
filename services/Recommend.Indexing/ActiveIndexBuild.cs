using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;

namespace Recommend.Indexing;

/// <summary>The version the unfinished full job builds, read from the job store, so catalog writes reach it too.</summary>
public sealed class ActiveIndexBuild(IReindexJobStore jobs) : IActiveIndexBuild
{
    public async Task<IndexBuild?> GetAsync(CancellationToken ct) =>
        await jobs.GetActiveJobAsync(ct) is { Mode: ReindexMode.Full, TargetVersion: { } building } job ? new IndexBuild(building, job.Spec) : null;
}
