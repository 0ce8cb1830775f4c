using Grpc.Core;
using Recommend.Contracts.V1;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;
using Recommend.Sqlite;
using ReindexMode = Recommend.Contracts.V1.ReindexMode;
using ReindexState = Recommend.Contracts.V1.ReindexState;
using SearchIndexState = Recommend.Contracts.V1.SearchIndexState;
using StoredMode = Recommend.Indexing.Jobs.ReindexMode;
using StoredState = Recommend.Indexing.Jobs.ReindexState;

namespace Recommend.Api.Tests;

/// <summary>The re-indexing RPCs end to end: each test on its own empty host.</summary>
public sealed class ReindexTests : IAsyncLifetime
{
    private RunningHost host = null!;
    private string? restartedDirectory;

    public async Task InitializeAsync() => host = await RunningHost.StartAsync(seedSample: false);

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        // A host restarted over a directory does not own it.
        if (restartedDirectory is not null) Directory.Delete(restartedDirectory, recursive: true);
    }

    private static Task AddProductsAsync(RunningHost target, int count) =>
        target.UpsertProductsAsync(Enumerable.Range(0, count)
            .Select(i => RunningHost.Product($"p{i:D3}", $"{(i % 2 == 0 ? "RED" : "BLUE")} SPOTTY MUG {i}", price: 2 + i))
            .ToArray());

    private static async Task<List<ReindexProgress>> WatchToEndAsync(RunningHost target, string jobId)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var call = target.Catalog.WatchReindex(new WatchReindexRequest { JobId = jobId }, cancellationToken: deadline.Token);
        return await call.ResponseStream.ReadAllAsync(deadline.Token).ToListAsync(deadline.Token);
    }

    [Fact]
    public async Task A_full_reindex_streams_progress_to_a_terminal_state_and_switches_the_live_version()
    {
        await AddProductsAsync(host, 30);
        var before = await host.Catalog.GetIndexStatusAsync(new GetIndexStatusRequest());

        var started = await host.Catalog.StartReindexAsync(new StartReindexRequest { Mode = ReindexMode.Full, Source = "store", Dimension = 128 });
        var progress = await WatchToEndAsync(host, started.JobId);

        var last = progress[^1];
        Assert.Equal(ReindexState.Succeeded, last.State);
        Assert.All(progress.SkipLast(1), p => Assert.True(p.State is ReindexState.Pending or ReindexState.Running or ReindexState.Verifying));
        Assert.Equal((30, 30, 128, ReindexMode.Full), (last.Processed, last.Total, last.Dimension, last.Mode));
        Assert.Equal(30, last.Embedded + last.Cached);
        var status = await host.Catalog.GetIndexStatusAsync(new GetIndexStatusRequest());
        Assert.Equal((last.TargetVersion, 128, 30L, true), (status.Live.Name, status.Live.Dimension, status.Live.PointCount, status.Live.Live));
        Assert.Equal([before.Live.Name], status.Previous.Select(v => v.Name));
        // 30 products: scanned exactly; the version it replaced is kept on disk only.
        Assert.Equal((SearchIndexState.Exact, SearchIndexState.OnDisk), (status.Live.SearchIndex, status.Previous[0].SearchIndex));
        Assert.Null(status.ActiveJob);
        var search = await host.Recommendations.SearchProductsAsync(new SearchProductsRequest { Query = "blue spotty mug", Limit = 3 });
        Assert.NotEmpty(search.Items);
        Assert.Equal(128, (await host.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest())).Dimension);

        var rolledBack = await host.Catalog.RollbackIndexAsync(new RollbackIndexRequest());
        Assert.Equal(before.Live.Name, rolledBack.Live.Name);
        Assert.NotEmpty((await host.Recommendations.SearchProductsAsync(new SearchProductsRequest { Query = "red mug", Limit = 3 })).Items);
    }

    [Fact]
    public async Task File_sources_are_read_only_from_the_configured_directory()
    {
        var imports = Directory.CreateTempSubdirectory("recommend-imports-").FullName;
        var outside = Path.Combine(Path.GetTempPath(), $"outside-{Guid.NewGuid():N}.jsonl");
        try
        {
            var feed = """
                {"product_id":"f1","title":"RED SPOTTY MUG","category":"Mugs","price":2.5,"in_stock":true}
                {"product_id":"f2","title":"BLUE STRIPY TEAPOT","category":"Teapots","price":12,"in_stock":true}
                """;
            await File.WriteAllTextAsync(Path.Combine(imports, "feed.jsonl"), feed);
            await File.WriteAllTextAsync(outside, feed);
            await using var configured = await RunningHost.StartAsync(seedSample: false, dataDirectory: null, $"--Recommend:Reindex:SourceDirectory={imports}");

            var escaped = await Assert.ThrowsAsync<RpcException>(async () => await configured.Catalog.StartReindexAsync(
                new StartReindexRequest { Mode = ReindexMode.Incremental, Source = $"file:{imports}/../{Path.GetFileName(outside)}" }));
            Assert.Equal(StatusCode.InvalidArgument, escaped.StatusCode);
            Assert.StartsWith("source:", escaped.Status.Detail);

            var started = await configured.Catalog.StartReindexAsync(
                new StartReindexRequest { Mode = ReindexMode.Full, Source = $"file:{Path.Combine(imports, "feed.jsonl")}" });
            Assert.Equal(ReindexState.Succeeded, (await WatchToEndAsync(configured, started.JobId))[^1].State);
            Assert.Equal("BLUE STRIPY TEAPOT", (await configured.Catalog.GetProductAsync(new GetProductRequest { ProductId = "f2" })).Title);

            // Without the setting, no file is read at all.
            var disabled = await Assert.ThrowsAsync<RpcException>(async () => await host.Catalog.StartReindexAsync(
                new StartReindexRequest { Mode = ReindexMode.Incremental, Source = $"file:{Path.Combine(imports, "feed.jsonl")}" }));
            Assert.Contains("SourceDirectory", disabled.Status.Detail);
        }
        finally
        {
            Directory.Delete(imports, recursive: true);
            File.Delete(outside);
        }
    }

    [Fact]
    public async Task A_file_that_would_delete_most_of_the_catalog_is_refused_previewed_by_a_dry_run_and_run_only_when_allowed()
    {
        var imports = Directory.CreateTempSubdirectory("recommend-imports-").FullName;
        try
        {
            await using var configured = await RunningHost.StartAsync(seedSample: false, dataDirectory: null, $"--Recommend:Reindex:SourceDirectory={imports}");
            await AddProductsAsync(configured, 50);
            var truncated = Path.Combine(imports, "truncated.jsonl");
            await File.WriteAllTextAsync(truncated, """
                {"product_id":"p000","title":"RED SPOTTY MUG 0","category":"Mugs","price":2,"in_stock":true}
                {"product_id":"new1","title":"GREEN TEAPOT","category":"Teapots","price":9,"in_stock":true}
                {"product_id":"","title":"no id"}
                """);
            var empty = Path.Combine(imports, "empty.csv");
            await File.WriteAllTextAsync(empty, "product_id,title,description,category,price,in_stock\n");

            foreach (var (file, mode) in new[] { (truncated, ReindexMode.Incremental), (empty, ReindexMode.Incremental), (truncated, ReindexMode.Full) })
            {
                var refused = await Assert.ThrowsAsync<RpcException>(async () => await configured.Catalog.StartReindexAsync(
                    new StartReindexRequest { Mode = mode, Source = $"file:{file}", MaxBadRows = -1 }));
                Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
                Assert.Contains("MaxDeletionShare", refused.Status.Detail);
            }
            Assert.Equal(50, (await configured.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest())).CatalogProducts);

            var dryRun = await configured.Catalog.StartReindexAsync(
                new StartReindexRequest { Mode = ReindexMode.Incremental, Source = $"file:{truncated}", DryRun = true });
            Assert.Equal("", dryRun.JobId);
            Assert.Equal((2L, 50L, 1L, 49L), (dryRun.Preview.SourceProducts, dryRun.Preview.CatalogProducts, dryRun.Preview.WouldAdd, dryRun.Preview.WouldRemove));
            Assert.Equal(Enumerable.Range(1, 20).Select(i => $"p{i:D3}"), dryRun.Preview.RemovedSample);

            var allowed = await configured.Catalog.StartReindexAsync(new StartReindexRequest
            {
                Mode = ReindexMode.Incremental, Source = $"file:{truncated}", MaxBadRows = -1, AllowMassDeletion = true,
            });
            Assert.Equal(ReindexState.Succeeded, (await WatchToEndAsync(configured, allowed.JobId))[^1].State);
            Assert.Equal(2, (await configured.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest())).CatalogProducts);
        }
        finally
        {
            Directory.Delete(imports, recursive: true);
        }
    }

    [Fact]
    public async Task A_symbolic_link_in_the_source_directory_is_not_followed()
    {
        var imports = Directory.CreateTempSubdirectory("recommend-imports-").FullName;
        var outside = Directory.CreateTempSubdirectory("recommend-outside-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(outside, "secret.jsonl"), """{"product_id":"s1","title":"SECRET"}""");
            File.CreateSymbolicLink(Path.Combine(imports, "linked.jsonl"), Path.Combine(outside, "secret.jsonl"));
            Directory.CreateSymbolicLink(Path.Combine(imports, "linked-dir"), outside);
            await using var configured = await RunningHost.StartAsync(seedSample: false, dataDirectory: null, $"--Recommend:Reindex:SourceDirectory={imports}");

            foreach (var path in new[] { Path.Combine(imports, "linked.jsonl"), Path.Combine(imports, "linked-dir", "secret.jsonl") })
            {
                var refused = await Assert.ThrowsAsync<RpcException>(async () => await configured.Catalog.StartReindexAsync(
                    new StartReindexRequest { Mode = ReindexMode.Full, Source = $"file:{path}", DryRun = true }));
                Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
                Assert.Contains("symbolic link", refused.Status.Detail);
                Assert.DoesNotContain(outside, refused.Status.Detail);
            }
        }
        finally
        {
            Directory.Delete(imports, recursive: true);
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task Bad_requests_name_the_field_and_unknown_jobs_are_not_found()
    {
        async Task<RpcException> Refused(StartReindexRequest request) =>
            await Assert.ThrowsAsync<RpcException>(async () => await host.Catalog.StartReindexAsync(request));

        var noMode = await Refused(new StartReindexRequest { Source = "store" });
        Assert.Equal((StatusCode.InvalidArgument, true), (noMode.StatusCode, noMode.Status.Detail.StartsWith("mode:")));
        var badSource = await Refused(new StartReindexRequest { Mode = ReindexMode.Full, Source = "ftp://catalog" });
        Assert.StartsWith("source:", badSource.Status.Detail);
        var missingFile = await Refused(new StartReindexRequest { Mode = ReindexMode.Full, Source = "file:/no/such/products.jsonl" });
        Assert.StartsWith("source:", missingFile.Status.Detail);
        var badDimension = await Refused(new StartReindexRequest { Mode = ReindexMode.Full, Dimension = 100_000 });
        Assert.StartsWith("dimension:", badDimension.Status.Detail);
        var badTolerance = await Refused(new StartReindexRequest { Mode = ReindexMode.Full, MaxBadRows = -2 });
        Assert.StartsWith("max_bad_rows:", badTolerance.Status.Detail);
        var otherModel = await Refused(new StartReindexRequest { Mode = ReindexMode.Full, ModelId = "qwen3-embedding-8b" });
        Assert.Equal(StatusCode.FailedPrecondition, otherModel.StatusCode);

        var watch = await Assert.ThrowsAsync<RpcException>(() => WatchToEndAsync(host, "rj-unknown"));
        Assert.Equal(StatusCode.NotFound, watch.StatusCode);
        var cancel = await Assert.ThrowsAsync<RpcException>(async () => await host.Catalog.CancelReindexAsync(new CancelReindexRequest { JobId = "rj-unknown" }));
        Assert.Equal(StatusCode.NotFound, cancel.StatusCode);
        var noId = await Assert.ThrowsAsync<RpcException>(async () => await host.Catalog.CancelReindexAsync(new CancelReindexRequest()));
        Assert.StartsWith("job_id:", noId.Status.Detail);
    }

    [Fact]
    public async Task Rollback_without_a_previous_version_and_a_start_while_another_replica_runs_a_job_are_failed_preconditions()
    {
        await AddProductsAsync(host, 3);
        var rollback = await Assert.ThrowsAsync<RpcException>(async () => await host.Catalog.RollbackIndexAsync(new RollbackIndexRequest()));
        Assert.Equal(StatusCode.FailedPrecondition, rollback.StatusCode);

        await using (var replica = SqliteStore.Open(Path.Combine(host.DataDirectory, "recommend.db")))
        {
            await replica.CreateJobAsync(new ReindexJob
            {
                Id = "rj-other-replica", Mode = StoredMode.Full, Source = "store", Spec = new IndexSpec("hashing-ngrams-v1", 256),
                CreatedAt = DateTimeOffset.UtcNow, Run = new RunState { Owner = "other-replica", LeaseExpiresAt = DateTimeOffset.UtcNow.AddHours(1) },
            }, CancellationToken.None);
        }

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await host.Catalog.StartReindexAsync(new StartReindexRequest { Mode = ReindexMode.Incremental, Source = "store" }));
        Assert.Equal((StatusCode.FailedPrecondition, "reindex job rj-other-replica is running"), (refused.StatusCode, refused.Status.Detail));
        Assert.Equal("rj-other-replica", (await host.Catalog.GetIndexStatusAsync(new GetIndexStatusRequest())).ActiveJob.JobId);
    }

    [Fact]
    public async Task A_job_left_running_by_a_crashed_process_is_resumed_when_the_host_starts()
    {
        await AddProductsAsync(host, 20);
        restartedDirectory = host.DataDirectory;
        await host.StopAsync();
        await using (var store = SqliteStore.Open(Path.Combine(host.DataDirectory, "recommend.db")))
        {
            await store.CreateJobAsync(new ReindexJob
            {
                Id = "rj-crashed", Mode = StoredMode.Full, Source = "store", Spec = new IndexSpec("hashing-ngrams-v1", 256),
                CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
                Run = new RunState
                {
                    State = StoredState.Running, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
                    Owner = "crashed-process", LeaseExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1),
                },
            }, CancellationToken.None);
        }

        host = await RunningHost.StartAsync(seedSample: false, host.DataDirectory);
        var progress = await WatchToEndAsync(host, "rj-crashed");

        Assert.Equal(ReindexState.Succeeded, progress[^1].State);
        var status = await host.Catalog.GetIndexStatusAsync(new GetIndexStatusRequest());
        Assert.Equal((progress[^1].TargetVersion, 20L), (status.Live.Name, status.Live.PointCount));
    }
}
