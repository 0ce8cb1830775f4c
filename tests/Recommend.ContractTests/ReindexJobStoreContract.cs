using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;
using Xunit;

namespace Recommend.ContractTests;

/// <summary>
/// The behaviour every <see cref="IReindexJobStore"/> must show: one unfinished job at a time, leases on jobs and shards
/// alike (work units) that let a crashed runner's work be taken over and fence off the old runner, and checkpoints
/// written with their batch. Each test gets a store over its own empty database.
/// </summary>
public abstract class ReindexJobStoreContract<TStore> where TStore : IReindexJobStore, IContentHashLedger, IAsyncDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    protected abstract Task<TStore> CreateStoreAsync();

    private static ReindexJob NewJob(string id, string owner = "runner-a") => new()
    {
        Id = id, Mode = ReindexMode.Full, Source = "file:/data/products.jsonl", Spec = new IndexSpec("model-x", 64), MaxBadRows = 5,
        CreatedAt = T0, Run = new RunState { Owner = owner, LeaseExpiresAt = T0.AddSeconds(30) },
    };

    private static WorkUnit Job(string id) => new(id);

    private static WorkUnit Shard(string id, int index) => new(id, index);

    [Fact]
    public async Task A_created_job_reads_back_with_every_field()
    {
        await using var store = await CreateStoreAsync();
        var job = NewJob("job-1");

        await store.CreateJobAsync(job, None);

        Assert.Equal(job, await store.GetJobAsync("job-1", None));
        Assert.Equal(job, await store.GetActiveJobAsync(None));
        Assert.Null(await store.GetJobAsync("missing", None));
    }

    [Fact]
    public async Task A_second_job_is_refused_naming_the_unfinished_one_until_it_finishes()
    {
        await using var store = await CreateStoreAsync();
        await store.CreateJobAsync(NewJob("first"), None);

        var refused = await Assert.ThrowsAsync<ReindexJobRunningException>(() => store.CreateJobAsync(NewJob("second"), None));
        Assert.Equal("first", refused.JobId);
        Assert.Contains("reindex job first is running", refused.Message);

        var first = (await store.GetJobAsync("first", None))!;
        Assert.True(await store.SaveRunAsync(Job("first"), first.Run with { State = ReindexState.Failed, FinishedAt = T0.AddMinutes(1), Error = "boom" }, null, None));
        Assert.Null(await store.GetActiveJobAsync(None));
        await store.CreateJobAsync(NewJob("second"), None);
        Assert.Equal("second", (await store.GetActiveJobAsync(None))?.Id);
        Assert.Equal(("boom", T0.AddMinutes(1)), ((await store.GetJobAsync("first", None))?.Run.Error, (await store.GetJobAsync("first", None))?.Run.FinishedAt));
    }

    [Fact]
    public async Task Concurrent_starts_let_exactly_one_job_in()
    {
        await using var store = await CreateStoreAsync();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await store.CreateJobAsync(NewJob($"job-{i}"), None);
                return true;
            }
            catch (ReindexJobRunningException)
            {
                return false;
            }
        }));

        Assert.Single(attempts, started => started);
    }

    [Fact]
    public async Task A_lease_is_taken_over_only_after_it_expires_and_fences_off_the_old_owner()
    {
        await using var store = await CreateStoreAsync();
        await store.CreateJobAsync(NewJob("job-1", owner: "runner-a"), None);

        Assert.Null(await store.TryClaimAsync(Job("job-1"), "runner-b", T0.AddSeconds(10), T0.AddSeconds(40), None));
        var own = await store.TryClaimAsync(Job("job-1"), "runner-a", T0.AddSeconds(10), T0.AddSeconds(40), None);
        Assert.Equal(("runner-a", T0.AddSeconds(40)), (own?.Owner, own?.LeaseExpiresAt));
        Assert.Null(await store.TryClaimAsync(Job("missing"), "runner-a", T0.AddSeconds(10), T0.AddSeconds(40), None));

        var taken = await store.TryClaimAsync(Job("job-1"), "runner-b", T0.AddSeconds(41), T0.AddSeconds(71), None);
        Assert.Equal("runner-b", taken?.Owner);
        Assert.False(await store.SaveRunAsync(Job("job-1"), own! with { Counters = new RunCounters(99, 0, 0, 0, 0) }, null, None));
        Assert.False(await store.SetTargetAsync("job-1", "runner-a", "v-stale", 10, None));
        Assert.Null(await store.RenewLeaseAsync(Job("job-1"), "runner-a", T0.AddSeconds(99), None));
        Assert.Equal(0, (await store.GetJobAsync("job-1", None))?.Run.Counters.Processed);
        Assert.Equal(new LeaseStatus(false), await store.RenewLeaseAsync(Job("job-1"), "runner-b", T0.AddSeconds(99), None));
        Assert.True(await store.SetTargetAsync("job-1", "runner-b", "v3", 10, None));
        Assert.Equal(("v3", 10L), ((await store.GetJobAsync("job-1", None))?.TargetVersion, (await store.GetJobAsync("job-1", None))!.Total));
    }

    [Fact]
    public async Task A_cancel_request_reaches_the_runner_at_its_next_heartbeat_and_only_unfinished_jobs_take_one()
    {
        await using var store = await CreateStoreAsync();
        await store.CreateJobAsync(NewJob("job-1"), None);

        Assert.True(await store.RequestCancelAsync("job-1", None));
        Assert.Equal(new LeaseStatus(true), await store.RenewLeaseAsync(Job("job-1"), "runner-a", T0.AddMinutes(1), None));
        Assert.True((await store.GetJobAsync("job-1", None))?.CancelRequested);
        Assert.False(await store.RequestCancelAsync("missing", None));

        var job = (await store.GetJobAsync("job-1", None))!;
        await store.SaveRunAsync(Job("job-1"), job.Run with { State = ReindexState.Cancelled }, null, None);
        Assert.False(await store.RequestCancelAsync("job-1", None));
        Assert.Null(await store.RenewLeaseAsync(Job("job-1"), "runner-a", T0.AddMinutes(2), None));
    }

    [Fact]
    public async Task A_checkpoint_is_saved_with_its_batch_of_hashes_and_bad_rows()
    {
        await using var store = await CreateStoreAsync();
        var job = NewJob("job-1");
        await store.CreateJobAsync(job, None);
        var progressed = job.Run with
        {
            State = ReindexState.Running, Phase = ReindexPhase.Reconcile, Checkpoint = "41", Counters = new RunCounters(41, 30, 9, 1, 2),
            StartedAt = T0.AddSeconds(1), LeaseExpiresAt = T0.AddSeconds(60),
        };
        var batch = new JobBatch("v7", "job-1/Main", [new ContentHash("b", "hb"), new ContentHash("a", "ha")],
            [new SourceRowError(40, "", "malformed JSON: x"), new SourceRowError(12, "p12", "empty title")]);

        Assert.True(await store.SaveRunAsync(Job("job-1"), progressed, batch, None));
        Assert.True(await store.SaveRunAsync(Job("job-1"), progressed, batch, None)); // a batch replayed after a crash adds nothing twice

        Assert.Equal(job with { Run = progressed }, await store.GetJobAsync("job-1", None));
        Assert.Equal([new SourceRowError(12, "p12", "empty title"), new SourceRowError(40, "", "malformed JSON: x")],
            await store.GetBadRowsAsync("job-1", 10, None));
        Assert.Single(await store.GetBadRowsAsync("job-1", 1, None));
        var hashes = await store.GetContentHashesAsync("v7", ["a", "b", "c"], None);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "ha", ["b"] = "hb" }, hashes);
        Assert.Empty(await store.GetContentHashesAsync("v8", ["a"], None));
    }

    [Fact]
    public async Task Unmarked_products_page_in_id_order_and_writes_outside_a_pass_keep_their_mark()
    {
        await using var store = await CreateStoreAsync();
        var job = NewJob("job-1");
        await store.CreateJobAsync(job, None);
        await store.PutContentHashesAsync("v1", [new("a", "1"), new("b", "1"), new("c", "1"), new("d", "1")], None);
        await store.SaveRunAsync(Job("job-1"), job.Run, new JobBatch("v1", "pass-2", [new("b", "2"), new("d", "2")], []), None);

        Assert.Equal(["a", "c"], await store.ListUnmarkedProductsAsync("v1", "pass-2", null, 10, None));
        Assert.Equal(["a"], await store.ListUnmarkedProductsAsync("v1", "pass-2", null, 1, None));
        Assert.Equal(["c"], await store.ListUnmarkedProductsAsync("v1", "pass-2", "a", 10, None));

        await store.PutContentHashesAsync("v1", [new("b", "3")], None); // a catalog write racing the pass
        Assert.Equal(["a", "c"], await store.ListUnmarkedProductsAsync("v1", "pass-2", null, 10, None));
        Assert.Equal("3", (await store.GetContentHashesAsync("v1", ["b"], None))["b"]);
    }

    private static ReindexJob NewShardedJob(string id, int shards) => NewJob(id) with
    {
        Source = "store", TargetVersion = "v9", ShardCount = shards, Total = 30,
        Run = new RunState { State = ReindexState.Running, StartedAt = T0 },
    };

    [Fact]
    public async Task Workers_arriving_together_end_up_in_one_sharded_job_that_counts_as_the_one_active_job()
    {
        await using var store = await CreateStoreAsync();

        var joined = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => store.CreateOrJoinShardedJobAsync(NewShardedJob($"job-{i}", 3), None)));

        var job = Assert.Single(joined.DistinctBy(j => j.Id));
        Assert.Equal(job, await store.GetActiveJobAsync(None));
        Assert.Equal([0, 1, 2], (await store.GetShardsAsync(job.Id, None)).Select(s => s.Index));
        Assert.All(await store.GetShardsAsync(job.Id, None), s => Assert.Equal(new RunState(), s.Run));
        Assert.Equal(job.Id, (await Assert.ThrowsAsync<ReindexJobRunningException>(() => store.CreateJobAsync(NewJob("plain"), None))).JobId);
        Assert.Equal(job.Id, (await Assert.ThrowsAsync<ReindexJobRunningException>(
            () => store.CreateOrJoinShardedJobAsync(NewShardedJob("other", 4), None))).JobId);

        Assert.True(await store.EndJobAsync(job.Id, ReindexState.Failed, "shard 1: boom", T0.AddMinutes(1), None));
        Assert.False(await store.EndJobAsync(job.Id, ReindexState.Failed, "again", T0.AddMinutes(2), None));
        // A worker restarted after its job ended finds that job, not a new one.
        var ended = await store.CreateOrJoinShardedJobAsync(NewShardedJob(job.Id, 3), None);
        Assert.Equal((ReindexState.Failed, "shard 1: boom", T0.AddMinutes(1)), (ended.State, ended.Run.Error, ended.Run.FinishedAt));
        Assert.Null(await store.GetActiveJobAsync(None));
    }

    [Fact]
    public async Task A_shard_lease_is_taken_over_only_after_it_expires_and_fences_off_the_old_owner()
    {
        await using var store = await CreateStoreAsync();
        var job = await store.CreateOrJoinShardedJobAsync(NewShardedJob("job-1", 2), None);

        var a = await store.TryClaimAsync(Shard(job.Id, 0), "worker-a", T0, T0.AddSeconds(30), None);
        Assert.Equal(("worker-a", T0.AddSeconds(30), ReindexState.Pending), (a?.Owner, a?.LeaseExpiresAt, a?.State));
        Assert.Null(await store.TryClaimAsync(Shard(job.Id, 0), "worker-b", T0.AddSeconds(10), T0.AddSeconds(40), None));
        Assert.NotNull(await store.TryClaimAsync(Shard(job.Id, 1), "worker-b", T0.AddSeconds(10), T0.AddSeconds(40), None));

        var progressed = a! with
        {
            State = ReindexState.Running, Phase = ReindexPhase.Reconcile, Checkpoint = "p17", Counters = new RunCounters(17, 15, 2, 0, 1),
            StartedAt = T0.AddSeconds(1),
        };
        var batch = new JobBatch("v9", "job-1/Main", [new ContentHash("p17", "h")], [new SourceRowError(3, "p3", "empty title")]);
        Assert.True(await store.SaveRunAsync(Shard(job.Id, 0), progressed, batch, None));
        Assert.Equal(new ReindexShard(job.Id, 0, progressed), (await store.GetShardsAsync(job.Id, None))[0]);
        var summed = await store.GetJobAsync(job.Id, None);
        Assert.Equal(new RunCounters(17, 15, 2, 0, 1), summed!.Run.Counters);
        Assert.Equal("h", (await store.GetContentHashesAsync("v9", ["p17"], None))["p17"]);
        Assert.Single(await store.GetBadRowsAsync(job.Id, 10, None));

        var taken = await store.TryClaimAsync(Shard(job.Id, 0), "worker-c", T0.AddSeconds(31), T0.AddSeconds(61), None);
        Assert.Equal(("worker-c", "p17"), (taken?.Owner, taken?.Checkpoint));
        Assert.False(await store.SaveRunAsync(Shard(job.Id, 0), progressed with { Counters = new RunCounters(99, 0, 0, 0, 0) }, null, None));
        Assert.Null(await store.RenewLeaseAsync(Shard(job.Id, 0), "worker-a", T0.AddSeconds(99), None));
        Assert.Equal(new LeaseStatus(false), await store.RenewLeaseAsync(Shard(job.Id, 0), "worker-c", T0.AddSeconds(99), None));

        Assert.True(await store.RequestCancelAsync(job.Id, None));
        Assert.Equal(new LeaseStatus(true), await store.RenewLeaseAsync(Shard(job.Id, 0), "worker-c", T0.AddSeconds(99), None));
        await store.EndJobAsync(job.Id, ReindexState.Cancelled, "cancelled", T0.AddMinutes(2), None);
        Assert.Null(await store.RenewLeaseAsync(Shard(job.Id, 0), "worker-c", T0.AddSeconds(99), None));
        Assert.Null(await store.TryClaimAsync(Shard(job.Id, 1), "worker-d", T0.AddMinutes(5), T0.AddMinutes(6), None));
        // The shard whose failure ended the job still records how it ended.
        Assert.True(await store.SaveRunAsync(Shard(job.Id, 0), taken! with { State = ReindexState.Cancelled, FinishedAt = T0.AddMinutes(2) }, null, None));
        Assert.Equal(T0.AddMinutes(2), (await store.GetShardsAsync(job.Id, None))[0].Run.FinishedAt);
    }

    [Fact]
    public async Task A_sharded_job_can_be_claimed_for_its_switch_only_once_every_shard_has_succeeded()
    {
        await using var store = await CreateStoreAsync();
        var job = await store.CreateOrJoinShardedJobAsync(NewShardedJob("job-1", 2), None);
        var first = (await store.TryClaimAsync(Shard(job.Id, 0), "worker-a", T0, T0.AddSeconds(30), None))!;
        await store.SaveRunAsync(Shard(job.Id, 0), first with { State = ReindexState.Succeeded }, null, None);

        Assert.Null(await store.TryClaimAsync(Job(job.Id), "worker-a", T0.AddSeconds(1), T0.AddSeconds(31), None));
        // An ended shard comes back as it is, so a restarted worker knows its part is done.
        Assert.Equal(ReindexState.Succeeded, (await store.TryClaimAsync(Shard(job.Id, 0), "worker-z", T0.AddSeconds(1), T0.AddSeconds(31), None))?.State);

        var second = (await store.TryClaimAsync(Shard(job.Id, 1), "worker-b", T0, T0.AddSeconds(30), None))!;
        await store.SaveRunAsync(Shard(job.Id, 1), second with { State = ReindexState.Succeeded }, null, None);
        var finisher = await store.TryClaimAsync(Job(job.Id), "worker-b", T0.AddSeconds(2), T0.AddSeconds(32), None);
        Assert.Equal("worker-b", finisher?.Owner);
        Assert.Null(await store.TryClaimAsync(Job(job.Id), "worker-a", T0.AddSeconds(3), T0.AddSeconds(33), None));
    }
}
