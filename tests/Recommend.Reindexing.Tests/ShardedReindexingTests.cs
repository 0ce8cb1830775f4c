using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex;
using Recommend.Indexing;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Sharding;
using Recommend.Qdrant;
using static Recommend.Reindexing.Tests.ReindexWorld;

namespace Recommend.Reindexing.Tests;

/// <summary>
/// Sharded re-indexing: several workers, run concurrently in-process over one SQLite store and one index (as pods over
/// Postgres and Qdrant would), re-index the catalog as ONE job. Subclassed per index backend.
/// </summary>
public abstract class ShardedReindexingTests : IAsyncLifetime
{
    private const int Catalog = 120;
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly ReindexOptions WorkerOptions = FastOptions with { LeaseDuration = TimeSpan.FromSeconds(1) };
    private ReindexWorld _world = null!;
    private IndexVersion _before = null!;

    private protected abstract (IVectorIndex Index, Func<ValueTask> Dispose) OpenIndex(string directory);

    public async Task InitializeAsync()
    {
        _world = ReindexWorld.Create(OpenIndex);
        await _world.Catalog.UpsertAsync(Products(Catalog), None);
        _before = (await _world.Index.GetLiveVersionAsync(None))!;
        _world.Embedders.Reset();
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    private ShardedReindexWorker Worker(string owner) => _world.NewWorker(WorkerOptions with { Owner = owner });

    /// <summary>A new dimension, so the embedding cache has nothing and every product must reach the model.</summary>
    private static ShardAssignment Shard(int index, int count) => new(Full(dimension: 64), index, count, JobId: "rj-sharded");

    private async Task<ReindexJob> RunWorkerAsync(ShardedReindexWorker worker, ShardAssignment work, CancellationToken ct = default)
    {
        var job = await worker.JoinAsync(work, ct);
        return await worker.RunAsync(job, work.ShardIndex, ct).WaitAsync(TimeSpan.FromMinutes(2), ct);
    }

    [Fact]
    public async Task Three_workers_build_one_version_that_goes_live_once_with_every_product_embedded_once()
    {
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Task.Run(() => RunWorkerAsync(Worker($"worker-{i}"), Shard(i, 3)))));

        var job = Assert.Single(outcomes.DistinctBy(o => (o.Id, o.State, o.TargetVersion)));
        Assert.Equal(ReindexState.Succeeded, job.State);
        Assert.Equal((Catalog, Catalog, Catalog), (job.Total, job.Run.Counters.Processed, job.Run.Counters.Embedded));
        var versions = await _world.Index.ListVersionsAsync(None);
        Assert.Equal([job.TargetVersion, _before.Name], versions.OrderByDescending(v => v.IsLive).Select(v => v.Name));
        Assert.True(versions.Single(v => v.Name == job.TargetVersion).IsLive);
        Assert.Equal(new IndexSpec(job.Spec.ModelId, 64), versions[0].Spec with { ModelId = job.Spec.ModelId });
        Assert.Equal(Catalog, await _world.LiveCountAsync());
        Assert.Equal(Catalog, _world.Embedders.Inferences);
        Assert.Equal(1, _world.Embedders.MostInferencesOfOneText);
        var shards = await _world.Store.GetShardsAsync(job.Id, None);
        Assert.All(shards, s => Assert.True(s.Run is { State: ReindexState.Succeeded, Counters.Processed: > 0 }));
        Assert.Equal([.. Enumerable.Range(0, 3).Select(i => (long)Products(Catalog).Count(p => ShardKey.Of(p.Id, 3) == i))], shards.Select(s => s.Run.Counters.Processed));
    }

    [Fact]
    public async Task A_worker_killed_mid_shard_and_restarted_resumes_its_shard_from_the_checkpoint()
    {
        // Slow batches, so the kill lands inside shard 0.
        _world.Embedders.BeforeInference = (_, ct) => Task.Delay(40, ct);
        using var kill = new CancellationTokenSource();
        var doomed = Task.Run(() => RunWorkerAsync(Worker("worker-0"), Shard(0, 2), kill.Token));
        var other = Task.Run(() => RunWorkerAsync(Worker("worker-1"), Shard(1, 2)));
        while ((await _world.Store.GetShardsAsync("rj-sharded", None)) is not [{ Run.Checkpoint: not null }, ..]) await Task.Delay(5);
        await kill.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => doomed);
        var killedAt = (await _world.Store.GetShardsAsync("rj-sharded", None))[0];
        Assert.Equal(ReindexState.Running, killedAt.Run.State);

        var restarted = await RunWorkerAsync(Worker("worker-0-restarted"), Shard(0, 2));

        Assert.Equal(ReindexState.Succeeded, restarted.State);
        Assert.Equal((restarted.Id, ReindexState.Succeeded), ((await other).Id, (await other).State));
        var shard = (await _world.Store.GetShardsAsync("rj-sharded", None))[0];
        Assert.Equal("worker-0-restarted", shard.Run.Owner);
        // Rows up to the kill's checkpoint were not read again: the shard counts each of its products once.
        Assert.Equal(Products(Catalog).Count(p => ShardKey.Of(p.Id, 2) == 0), shard.Run.Counters.Processed);
        Assert.Equal(Catalog, restarted.Run.Counters.Processed);
        Assert.Equal(Catalog, await _world.LiveCountAsync());
        Assert.Equal(1, _world.Embedders.MostInferencesOfOneText);
    }

    [Fact]
    public async Task A_failing_shard_fails_the_job_and_nothing_is_switched()
    {
        _world.Embedders.BeforeInference = (call, _) => call == 3 ? throw new InvalidOperationException("model crashed") : Task.CompletedTask;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Task.Run(() => RunWorkerAsync(Worker($"worker-{i}"), Shard(i, 3)))));

        Assert.All(outcomes, o => Assert.Equal(ReindexState.Failed, o.State));
        // The cause is in the log; clients read which shard failed, without the exception's own text.
        Assert.StartsWith("shard ", outcomes[0].Run.Error);
        Assert.DoesNotContain("model crashed", outcomes[0].Run.Error);
        Assert.Equal(_before.Name, (await _world.Index.GetLiveVersionAsync(None))?.Name);
        Assert.Equal([_before.Name], (await _world.Index.ListVersionsAsync(None)).Select(v => v.Name));
        Assert.Equal(Catalog, await _world.LiveCountAsync());
        Assert.Null(await _world.Store.GetActiveJobAsync(None));
    }

    [Fact]
    public async Task A_plain_job_cannot_start_while_a_sharded_one_runs()
    {
        _world.Embedders.BeforeInference = (_, ct) => Task.Delay(20, ct);
        var worker = Worker("worker-0");
        var job = await worker.JoinAsync(Shard(0, 2), None);

        var refused = await Assert.ThrowsAsync<ReindexJobRunningException>(() => _world.Reindex.StartAsync(Full(), None));

        Assert.Equal(job.Id, refused.JobId);
        await Task.WhenAll(worker.RunAsync(job, 0, None), Worker("worker-1").RunAsync(job, 1, None)).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(ReindexState.Succeeded, (await _world.Store.GetJobAsync(job.Id, None))?.State);
    }
}

public sealed class EmbeddedIndexShardedReindexingTests : ShardedReindexingTests
{
    private protected override (IVectorIndex Index, Func<ValueTask> Dispose) OpenIndex(string directory)
    {
        var index = EmbeddedVectorIndex.Open(Path.Combine(directory, "index"));
        return (index, () => { index.Dispose(); return ValueTask.CompletedTask; });
    }
}

public sealed class QdrantShardedReindexingTests(QdrantServerFixture qdrant) : ShardedReindexingTests, IClassFixture<QdrantServerFixture>
{
    private protected override (IVectorIndex Index, Func<ValueTask> Dispose) OpenIndex(string directory)
    {
        var index = new QdrantVectorIndex(new QdrantIndexOptions { Url = qdrant.Server.Url, Alias = $"sharded_{Guid.NewGuid():N}" });
        return (index, () => { index.Dispose(); return ValueTask.CompletedTask; });
    }
}
