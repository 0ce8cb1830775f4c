using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Ranking;
using Recommend.Core.Vectors;
using Recommend.Indexing;
using Recommend.Indexing.Jobs;
using static Recommend.Reindexing.Tests.ReindexWorld;

namespace Recommend.Reindexing.Tests;

/// <summary>
/// Re-indexing behaviour through the real store and a real index backend: subclassed once per backend
/// (embedded index, Qdrant adapter against the protocol-level server).
/// </summary>
public abstract class ReindexingTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private ReindexWorld _world = null!;

    private protected ReindexWorld World => _world;

    /// <summary>Opens a new, empty index for a world rooted at the given directory, and how to dispose it.</summary>
    private protected abstract (IVectorIndex Index, Func<ValueTask> Dispose) OpenIndex(string directory);

    public Task InitializeAsync()
    {
        _world = ReindexWorld.Create(OpenIndex);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    private async Task<IndexVersion> SeedAsync(int count)
    {
        await World.Catalog.UpsertAsync(Products(count), None);
        World.Embedders.Reset();
        return (await World.Index.GetLiveVersionAsync(None))!;
    }

    [Fact]
    public async Task A_full_run_builds_verifies_and_switches_to_a_new_version_keeping_the_old_one()
    {
        var before = await SeedAsync(40);

        var done = await World.RunAsync(Full());

        Assert.Equal(ReindexState.Succeeded, done.Job.State);
        Assert.Equal((40, 40, 0, 40), (done.Job.Total, done.Job.Run.Counters.Processed, done.Job.Run.Counters.Embedded, done.Job.Run.Counters.Cached));
        var live = await World.Index.GetLiveVersionAsync(None);
        Assert.Equal(done.Job.TargetVersion, live?.Name);
        Assert.NotEqual(before.Name, live?.Name);
        Assert.Equal(40, await World.LiveCountAsync());
        var status = await World.Reindex.GetIndexStatusAsync(None);
        Assert.Equal([before.Name], status.Previous.Select(v => v.Version.Name));
        Assert.Null(status.ActiveJob);
        Assert.Equal(0, World.Embedders.Inferences); // every text came from the embedding cache
    }

    [Fact]
    public async Task Re_indexing_an_unchanged_catalog_runs_no_inference()
    {
        await SeedAsync(30);
        await World.RunAsync(Full());

        var incremental = await World.RunAsync(Incremental());

        Assert.Equal(ReindexState.Succeeded, incremental.Job.State);
        Assert.Equal((30, 0, 0, 0), (incremental.Job.Run.Counters.Processed, incremental.Job.Run.Counters.Embedded, incremental.Job.Run.Counters.Cached, incremental.Job.Run.Counters.Deleted));
        Assert.Equal(0, World.Embedders.Inferences);
    }

    [Fact]
    public async Task An_incremental_run_embeds_exactly_the_one_changed_product()
    {
        await SeedAsync(30);
        await World.RunAsync(Full());
        var changed = Product(7, title: "bright orange watering can");
        await World.Store.UpsertProductsAsync([changed], None); // a bulk change straight in the catalog of record

        var done = await World.RunAsync(Incremental());

        Assert.Equal(ReindexState.Succeeded, done.Job.State);
        Assert.Equal(1, World.Embedders.Inferences);
        Assert.Equal(1, World.Embedders.InferencesOf(changed.EmbeddingText));
        Assert.Equal((1, 0), (done.Job.Run.Counters.Embedded, done.Job.Run.Counters.Cached));
        var found = await World.Engine.SearchAsync("orange watering can", new RequestOptions(3, ProductFilter.None, null, false, null), RankingProfile.Default, None);
        Assert.Equal(changed.Id, found.Items[0].Product.Id);
    }

    [Fact]
    public async Task A_price_change_is_re_indexed_from_the_cache_without_inference()
    {
        await SeedAsync(20);
        await World.RunAsync(Full());
        await World.Store.UpsertProductsAsync([Product(3, price: 999)], None);

        var done = await World.RunAsync(Incremental());

        Assert.Equal((0, 1), (done.Job.Run.Counters.Embedded, done.Job.Run.Counters.Cached));
        var cheap = await World.Index.SearchAsync(new VectorQuery((await World.Index.GetVectorsAsync(["p0003"], None))["p0003"], 5,
            ProductFilter.None with { MaxPrice = 100 }), None);
        Assert.DoesNotContain(cheap, h => h.ProductId == "p0003");
    }

    [Fact]
    public async Task An_incremental_run_removes_products_gone_from_the_store()
    {
        await SeedAsync(25);
        await World.RunAsync(Full());
        await World.Store.DeleteProductsAsync(["p0004", "p0010"], None);

        var done = await World.RunAsync(Incremental());

        Assert.Equal(2, done.Job.Run.Counters.Deleted);
        Assert.Equal(23, await World.LiveCountAsync());
        Assert.Empty(await World.Index.GetVectorsAsync(["p0004", "p0010"], None));
    }

    [Fact]
    public async Task A_product_deleted_while_its_batch_is_embedded_does_not_come_back_into_the_index()
    {
        await SeedAsync(30);
        await World.RunAsync(Full());
        await World.Store.UpsertProductsAsync(Products(30).Select(p => p with { Title = p.Title + " restyled" }).ToList(), None);
        // The first batch has been read from the store; the delete lands before its vectors are written.
        var deleted = 0;
        World.Embedders.BeforeInference = async (_, ct) =>
        {
            if (Interlocked.Exchange(ref deleted, 1) == 0) await World.Catalog.DeleteAsync(["p0005"], ct);
        };

        var done = await World.RunAsync(Incremental());

        Assert.Equal(ReindexState.Succeeded, done.Job.State);
        Assert.Equal(29, await World.LiveCountAsync());
        Assert.Empty(await World.Index.GetVectorsAsync(["p0005"], None));
        var live = (await World.Index.GetLiveVersionAsync(None))!;
        Assert.Empty(await World.Store.GetContentHashesAsync(live.Name, ["p0005"], None));
    }

    [Fact]
    public async Task A_file_source_is_the_catalog_products_it_no_longer_lists_leave_store_and_index()
    {
        var products = Products(12);
        var full = await World.RunAsync(Full(World.WriteFile("catalog.jsonl", products.Select(JsonLine).ToArray())));
        Assert.Equal(ReindexState.Succeeded, full.Job.State);
        Assert.Equal(12, await World.Store.CountProductsAsync(None));
        Assert.Equal(12, await World.LiveCountAsync());

        var kept = products.Where(p => p.Id != "p0005").Select(JsonLine).ToArray();
        var done = await World.RunAsync(Incremental(World.WriteFile("catalog-2.jsonl", kept)));

        Assert.Equal((ReindexState.Succeeded, 1L, 0L), (done.Job.State, done.Job.Run.Counters.Deleted, done.Job.Run.Counters.Embedded));
        Assert.Empty(await World.Store.GetProductsAsync(["p0005"], None));
        Assert.Equal(11, await World.LiveCountAsync());
    }

    [Fact]
    public async Task A_run_killed_between_batches_resumes_from_its_checkpoint_without_embedding_anything_twice()
    {
        await World.Store.UpsertProductsAsync(Products(100), None); // never embedded: every text needs the model once
        using var crash = new CancellationTokenSource();
        World.Embedders.BeforeInference = async (call, _) =>
        {
            if (call < 4) return;
            // The process dies while the fourth batch is being embedded, once at least one batch is checkpointed.
            while ((await World.Store.GetJobAsync("job-killed", None))?.Run.Checkpoint is null) await Task.Delay(5);
            crash.Cancel();
            throw new OperationCanceledException(crash.Token);
        };
        var first = World.Options with { Owner = "first-process" };
        var job = new ReindexJob
        {
            Id = "job-killed", Mode = ReindexMode.Full, Source = "store", Spec = World.Embedders.Default.Info.Spec,
            CreatedAt = DateTimeOffset.UtcNow, Run = new RunState { Owner = first.Owner, LeaseExpiresAt = DateTimeOffset.UtcNow.AddMinutes(1) },
        };
        await World.Store.CreateJobAsync(job, None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => World.NewReindexer(first).RunAsync(job, crash.Token));

        var interrupted = (await World.Store.GetJobAsync(job.Id, None))!;
        Assert.Equal(ReindexState.Running, interrupted.State);
        Assert.InRange(long.Parse(interrupted.Run.Checkpoint!.TrimStart('p')), 1, 47);
        Assert.Null(await World.Index.GetLiveVersionAsync(None));

        World.Embedders.BeforeInference = (_, _) => Task.CompletedTask;
        var second = World.Options with { Owner = "second-process" };
        var claimed = await World.Store.TryClaimAsync(interrupted.Unit, second.Owner, DateTimeOffset.UtcNow.AddMinutes(2), DateTimeOffset.UtcNow.AddMinutes(3), None);
        var finished = await World.NewReindexer(second).RunAsync(interrupted with { Run = claimed! }, None);

        Assert.Equal(ReindexState.Succeeded, finished.State);
        Assert.Equal(100, World.Embedders.Inferences);
        Assert.Equal(1, World.Embedders.MostInferencesOfOneText);
        Assert.Equal(100, await World.LiveCountAsync());
        Assert.Equal(interrupted.TargetVersion, (await World.Index.GetLiveVersionAsync(None))?.Name);
    }

    [Fact]
    public async Task Searches_during_a_full_run_never_fail_and_never_come_back_empty()
    {
        await SeedAsync(120);
        World.Embedders.BeforeInference = (_, ct) => Task.Delay(20, ct);
        await World.Store.UpsertProductsAsync(Products(120).Select(p => p with { Description = p.Description + " v2" }).ToList(), None);

        var job = await World.Reindex.StartAsync(Full(), None);
        var searches = 0;
        var running = World.Reindex.WhenFinishedAsync(job.Id);
        while (!running.IsCompleted)
        {
            var result = await World.Engine.SearchAsync("blue teapot", new RequestOptions(5, ProductFilter.None, null, false, null), RankingProfile.Default, None);
            Assert.NotEmpty(result.Items);
            Assert.False(result.Degraded);
            searches++;
        }

        Assert.Equal(ReindexState.Succeeded, (await World.Reindex.GetProgressAsync(job.Id, None)).Job.State);
        Assert.True(searches >= 3, $"only {searches} searches overlapped the run");
    }

    [Fact]
    public async Task A_cancelled_full_run_never_switches_and_deletes_its_half_built_version()
    {
        var before = await SeedAsync(10);
        await World.Store.UpsertProductsAsync(Products(200).Skip(10).ToList(), None);
        var started = new TaskCompletionSource();
        World.Embedders.BeforeInference = async (_, ct) => { started.TrySetResult(); await Task.Delay(30, ct); };

        var job = await World.Reindex.StartAsync(Full(), None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var cancelled = await World.Reindex.CancelAsync(job.Id, None);

        Assert.Equal((ReindexState.Cancelled, "cancelled"), (cancelled.Job.State, cancelled.Job.Run.Error));
        Assert.Equal(before.Name, (await World.Index.GetLiveVersionAsync(None))?.Name);
        Assert.Equal([before.Name], (await World.Index.ListVersionsAsync(None)).Select(v => v.Name));
        Assert.Equal(0, await World.Store.CountContentHashesAsync(cancelled.Job.TargetVersion!, None));
        Assert.Null(await World.Store.GetActiveJobAsync(None));
    }

    [Fact]
    public async Task A_second_start_is_refused_naming_the_running_job()
    {
        await SeedAsync(100);
        Assert.False(await World.Reindex.IsReindexingAsync(None));
        World.Embedders.BeforeInference = (_, ct) => Task.Delay(20, ct);
        await World.Store.UpsertProductsAsync(Products(100).Select(p => p with { Title = p.Title + " new" }).ToList(), None);
        var first = await World.Reindex.StartAsync(Full(), None);

        var refused = await Assert.ThrowsAsync<ReindexJobRunningException>(() => World.Reindex.StartAsync(Incremental(), None));

        Assert.Equal(first.Id, refused.JobId);
        Assert.True(await World.Reindex.IsReindexingAsync(None));
        await World.Reindex.CancelAsync(first.Id, None);
        await World.Reindex.WhenFinishedAsync(first.Id).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.False(await World.Reindex.IsReindexingAsync(None));
    }

    [Fact]
    public async Task Rollback_returns_to_the_previous_version_and_old_versions_beyond_the_kept_ones_are_deleted()
    {
        var original = await SeedAsync(10);
        await Assert.ThrowsAsync<ReindexPreconditionException>(() => World.Reindex.RollbackAsync(null, None));
        var second = (await World.RunAsync(Full())).Job.TargetVersion;
        var third = (await World.RunAsync(Full())).Job.TargetVersion;
        var fourth = (await World.RunAsync(Full())).Job.TargetVersion;

        Assert.Equal([fourth, third, second], (await World.Index.ListVersionsAsync(None)).Select(v => v.Name));
        Assert.DoesNotContain(original.Name, (await World.Index.ListVersionsAsync(None)).Select(v => v.Name));

        var rolledBack = await World.Reindex.RollbackAsync(null, None);
        Assert.Equal(third, rolledBack.Live?.Version.Name);
        Assert.Equal(10, rolledBack.Live?.PointCount);
        var named = await World.Reindex.RollbackAsync(second, None);
        Assert.Equal(second, named.Live?.Version.Name);
        await Assert.ThrowsAsync<ReindexPreconditionException>(() => World.Reindex.RollbackAsync("no-such-version", None));
    }

    [Fact]
    public async Task A_full_run_to_another_dimension_switches_serving_to_that_dimension()
    {
        await SeedAsync(15);

        var done = await World.RunAsync(Full(dimension: 64));

        Assert.Equal(ReindexState.Succeeded, done.Job.State);
        Assert.Equal(new IndexSpec(HashingEmbedder.ModelId, 64), (await World.Index.GetLiveVersionAsync(None))?.Spec);
        var found = await World.Engine.SearchAsync("green lantern", new RequestOptions(3, ProductFilter.None, null, false, null), RankingProfile.Default, None);
        Assert.NotEmpty(found.Items);
        await World.Catalog.UpsertAsync([Product(99, title: "velvet footstool")], None);
        Assert.Equal(64, (await World.Index.GetVectorsAsync(["p0099"], None))["p0099"].Length);
        var similar = await World.Engine.SimilarProductsAsync("p0002", new RequestOptions(3, ProductFilter.None, null, false, null), RankingProfile.Default, None);
        Assert.NotEmpty(similar.Items);
    }

    [Fact]
    public async Task A_model_that_is_not_loaded_is_refused_before_anything_starts()
    {
        await SeedAsync(5);

        await Assert.ThrowsAsync<ReindexPreconditionException>(() =>
            World.Reindex.StartAsync(new ReindexRequest(ReindexMode.Full, "store", 0, "qwen3-embedding-8b", 0), None));
        await Assert.ThrowsAsync<ReindexPreconditionException>(() =>
            World.Reindex.StartAsync(new ReindexRequest(ReindexMode.Incremental, "store", 32), None));
        Assert.Null(await World.Store.GetActiveJobAsync(None));
    }

    [Fact]
    public async Task Bad_rows_are_reported_with_line_numbers_and_skipped_within_the_tolerance()
    {
        var source = World.WriteFile("bad.jsonl",
            JsonLine(Product(1)),
            """{"title":"no id","price":1}""",
            """{"product_id":"e1","title":"  ","price":1}""",
            """{"product_id":"e2","title":"Bad price","price":"cheap"}""",
            """{"product_id":"e3","title":"Broken" """,
            "",
            JsonLine(Product(2)));

        var done = await World.RunAsync(Full(source, maxBadRows: -1));

        Assert.Equal(ReindexState.Succeeded, done.Job.State);
        Assert.Equal((7L, 2L), (done.Job.Total + 1, await World.LiveCountAsync())); // the blank line is no row
        Assert.Equal([2L, 3L, 4L, 5L], done.Errors.Select(e => e.Line));
        Assert.Equal(["missing product_id", "empty title", "bad price \"cheap\""], done.Errors.Take(3).Select(e => e.Message));
        Assert.StartsWith("malformed JSON", done.Errors[3].Message);
        Assert.Equal(4, done.Job.Run.Counters.BadRows);
    }

    [Fact]
    public async Task Bad_rows_beyond_the_tolerance_fail_the_job_and_leave_the_live_version_alone()
    {
        var before = await SeedAsync(3);
        var source = World.WriteFile("bad.csv",
            "product_id,title,description,category,price,in_stock",
            "c1,\"Mug, large\",,mugs,3.5,true",
            ",No id,,mugs,1,true",
            "c3,Cheap,,mugs,-1,true",
            "c4,Teapot,,pots,2,maybe");

        // The file lists one of the three seeded products: allowed here, as this is about the tolerance.
        var done = await World.RunAsync(Full(source, maxBadRows: 2) with { AllowMassDeletion = true });

        Assert.Equal(ReindexState.Failed, done.Job.State);
        Assert.Contains("exceed max_bad_rows 2", done.Job.Run.Error);
        Assert.Equal([3L, 4L, 5L], done.Errors.Select(e => e.Line));
        Assert.Equal(before.Name, (await World.Index.GetLiveVersionAsync(None))?.Name);
        Assert.Equal([before.Name], (await World.Index.ListVersionsAsync(None)).Select(v => v.Name));
    }

    [Fact]
    public async Task Catalog_writes_during_a_full_run_are_in_the_version_it_switches_to()
    {
        await SeedAsync(80);
        await World.Store.UpsertProductsAsync(Products(80).Select(p => p with { Title = p.Title + " restyled" }).ToList(), None);
        var halfway = new TaskCompletionSource();
        World.Embedders.BeforeInference = async (call, ct) => { if (call == 2) halfway.TrySetResult(); await Task.Delay(10, ct); };

        var job = await World.Reindex.StartAsync(Full(), None);
        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await World.Catalog.UpsertAsync([Product(500, title: "copper kettle"), Product(1, title: "changed mid-run")], None);
        await World.Catalog.DeleteAsync(["p0070"], None);
        await World.Reindex.WhenFinishedAsync(job.Id).WaitAsync(TimeSpan.FromMinutes(1));

        var finished = (await World.Reindex.GetProgressAsync(job.Id, None)).Job;
        Assert.True(finished.State == ReindexState.Succeeded, $"{finished.State}: {finished.Run.Error}{Environment.NewLine}{World.Errors}");
        Assert.Equal(80, await World.LiveCountAsync());
        var vectors = await World.Index.GetVectorsAsync(["p0500", "p0001", "p0070"], None);
        Assert.Equal(["p0001", "p0500"], vectors.Keys.Order(StringComparer.Ordinal));
        var embedder = World.Embedders.Default;
        var expected = await embedder.EmbedDocumentsAsync([Product(1, title: "changed mid-run").EmbeddingText], None);
        Assert.Equal(expected[0], vectors["p0001"], new FloatTolerance());
    }

    private sealed class FloatTolerance : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) < 1e-5;
        public int GetHashCode(float obj) => 0;
    }
}
