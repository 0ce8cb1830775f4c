using System.Numerics.Tensors;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex.Graph;
using Xunit;

namespace Recommend.EmbeddedIndex.Tests;

/// <summary>
/// The HNSW graph behind large versions: it answers like the exact scan where recall must be 1, filters stay exact and
/// complete on every search path, and it is derived data that is reloaded, caught up or rebuilt but never trusted blindly.
/// </summary>
public sealed class GraphSearchTests : IDisposable
{
    private const int Dimension = 32;
    private static readonly IndexSpec Spec = new("test-model", Dimension);
    private static CancellationToken Ct => CancellationToken.None;

    private readonly TemporaryIndexes _indexes = new();

    public void Dispose() => _indexes.Dispose();

    private static EmbeddedIndexOptions Options(VectorPrecision precision = VectorPrecision.F32, int buildThreads = 2) => new()
    {
        Precision = precision,
        ExactSearchBelow = 500,
        ExactFilterBelow = 400,
        // A wide search on a small graph visits nearly every node, so its answer must be the exact one.
        ExpansionSearch = 400,
        BuildThreads = buildThreads,
    };

    [Theory]
    [InlineData(VectorPrecision.F32)]
    [InlineData(VectorPrecision.F16)]
    [InlineData(VectorPrecision.Int8)]
    [InlineData(VectorPrecision.BF16)]
    public async Task On_a_small_version_the_graph_returns_exactly_what_the_exact_scan_returns(VectorPrecision precision)
    {
        var catalog = Catalog.Generate(products: 1_500, seed: 1);
        // Concurrent inserts can leave a node weakly linked (USearch measured here: recall 0.9985 with two threads,
        // 1.0 with one), so the graph that must be exact is built on one thread.
        var index = await LiveIndexAsync(catalog, Options(precision, buildThreads: 1));

        var graph = index.GraphOf("v1").Ready;
        Assert.NotNull(graph);
        Assert.Equal(precision, graph.Graph.Precision);
        // USearch names the distance kernel it chose for this precision on this CPU (logged for operators).
        Assert.Matches("^[a-z0-9]+$", graph.Graph.Kernel);
        // Its memory, as the build and load log lines report it: at least a byte per dimension of every vector.
        Assert.InRange(graph.Graph.MemoryBytes, catalog.Records.Count * Dimension, long.MaxValue);
        Assert.Equal(SearchPlan.Graph, index.PlanLive(ProductFilter.None));
        foreach (var query in catalog.Queries(40, seed: 2))
        {
            var hits = await index.SearchAsync(new VectorQuery(query, 10, ProductFilter.None), Ct);
            // Scores are rescored from the exact rows, so even quantized graphs report the exact cosine.
            Assert.Equal(catalog.Exact(query, 10, ProductFilter.None), hits);
        }
    }

    [Fact]
    public async Task Every_search_path_honours_the_filter_and_returns_all_matches_up_to_the_limit()
    {
        var catalog = Catalog.Generate(products: 3_000, seed: 3);
        var index = await LiveIndexAsync(catalog, Options());
        var small = catalog.Category(size: 30);
        var large = catalog.Category(size: 1_200);
        var cases = new (ProductFilter Filter, int Limit, SearchPlan Plan)[]
        {
            // 30 products in the category: scanned exactly, and a limit of 20 gets 20 whatever their cosine.
            (Filter([small]), 20, SearchPlan.CategoryScan),
            (Filter([small], inStock: true), 20, SearchPlan.CategoryScan),
            (Filter([large], inStock: true), 20, SearchPlan.Graph),
            (Filter([], maxPrice: 40), 20, SearchPlan.Graph),
            // A price band almost nothing falls in: sampled as selective, scanned exactly.
            (Filter([], minPrice: 99.5), 20, SearchPlan.FullScan),
            // More asked for than exist: the graph finds fewer, and the scan behind it returns every one.
            (Filter([large], inStock: true), 1_000, SearchPlan.Graph),
            (Filter([], exclude: catalog.Ids.Take(200)), 20, SearchPlan.Graph),
        };
        foreach (var (filter, limit, plan) in cases)
        {
            Assert.Equal(plan, index.PlanLive(filter));
            foreach (var query in catalog.Queries(10, seed: limit))
            {
                var hits = await index.SearchAsync(new VectorQuery(query, limit, filter), Ct);
                var exact = catalog.Exact(query, limit, filter);
                Assert.All(hits, hit => Assert.True(catalog.Matches(hit.ProductId, filter), $"{hit.ProductId} fails the filter"));
                Assert.Equal(exact.Count, hits.Count);
                Assert.Equal(hits.Count, hits.Select(h => h.ProductId).Distinct().Count());
                if (plan != SearchPlan.Graph || limit > 100)
                    Assert.Equal(exact, hits);
                else
                    Assert.True(Recall(hits, exact) >= 0.9, $"recall {Recall(hits, exact)} for {filter}");
            }
        }
    }

    [Theory]
    [InlineData(30)] // few: dropped after an unfiltered walk
    [InlineData(100)] // many: the walk itself skips them
    public async Task Excluded_products_are_dropped_exactly_even_when_they_are_the_nearest(int excluded)
    {
        var catalog = Catalog.Generate(products: 3_000, seed: 5);
        // One build thread: two can leave a node weakly linked, and this test holds the walk to a recall bound.
        var index = await LiveIndexAsync(catalog, Options(buildThreads: 1));
        foreach (var query in catalog.Queries(10, seed: 5))
        {
            // The nearest products are what an unfiltered walk would return first.
            var nearest = catalog.Exact(query, excluded, ProductFilter.None).Select(h => h.ProductId).ToList();
            var filter = Filter([], exclude: nearest);
            Assert.Equal(SearchPlan.Graph, index.PlanLive(filter));
            var hits = await index.SearchAsync(new VectorQuery(query, 20, filter), Ct);
            var exact = catalog.Exact(query, 20, filter);
            Assert.Equal(20, hits.Count);
            Assert.DoesNotContain(hits, hit => nearest.Contains(hit.ProductId));
            Assert.True(Recall(hits, exact) >= 0.9, $"recall {Recall(hits, exact)}");
        }
    }

    [Fact]
    public async Task F16_rows_answer_every_search_path_within_their_rounding_of_the_exact_answer_also_after_a_restart()
    {
        var catalog = Catalog.Generate(products: 3_000, seed: 13);
        var options = Options();
        options.RowPrecision = VectorPrecision.F16;
        var index = await LiveIndexAsync(catalog, options);
        var small = catalog.Category(size: 30);
        var large = catalog.Category(size: 1_200);
        var cases = new (ProductFilter Filter, SearchPlan Plan)[]
        {
            (ProductFilter.None, SearchPlan.Graph), (Filter([large], inStock: true), SearchPlan.Graph),
            (Filter([small]), SearchPlan.CategoryScan), (Filter([], minPrice: 99.5), SearchPlan.FullScan),
        };
        // A cosine of unit vectors rounded to f16 is within ~1e-3 of the f32 one.
        const double Rounding = 2e-3;

        for (var restarts = 0; restarts < 2; restarts++)
        {
            var searched = restarts == 0 ? index : _indexes.Reopen(index);
            foreach (var (filter, plan) in cases)
            {
                Assert.Equal(plan, searched.PlanLive(filter));
                foreach (var query in catalog.Queries(10, seed: 14))
                {
                    var hits = await searched.SearchAsync(new VectorQuery(query, 20, filter), Ct);
                    var exact = catalog.Exact(query, 20, filter);
                    Assert.Equal(exact.Count, hits.Count);
                    Assert.All(hits, hit => Assert.True(catalog.Matches(hit.ProductId, filter), $"{hit.ProductId} fails the filter"));
                    Assert.All(hits, hit => Assert.Equal(catalog.Cosine(query, hit.ProductId), hit.Score, Rounding));
                    if (plan == SearchPlan.Graph)
                        Assert.True(Recall(hits, exact) >= 0.9, $"recall {Recall(hits, exact)} for {filter}");
                    else // exact scans: only a near-tie at the cut may differ from the f32 answer
                        Assert.All(exact.Where(e => e.Score > exact[^1].Score + Rounding), e => Assert.Contains(hits, h => h.ProductId == e.ProductId));
                }
            }
            var first = catalog.Records[0];
            var stored = (await searched.GetVectorsAsync([first.ProductId], Ct))[first.ProductId];
            var norm = TensorPrimitives.Norm(first.Vector);
            Assert.All(Enumerable.Range(0, Dimension), d => Assert.Equal(first.Vector[d] / norm, stored[d], 1e-3));

            // A profile and its attribution read the f16 rows in place, to the bit what the vectors copied out give.
            var ids = catalog.Ids.Take(40).ToList();
            var weights = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => 1.0 / (p.i + 1));
            var copies = await searched.GetVectorsAsync(ids, Ct);
            var profile = new float[Dimension];
            foreach (var (id, weight) in weights) TensorPrimitives.MultiplyAdd(copies[id], (float)weight, profile, profile);
            TensorPrimitives.Divide(profile, TensorPrimitives.Norm(profile), profile);
            Assert.Equal(profile, await searched.WeightedMeanAsync(weights, Ct));
            var nearest = await searched.NearestAmongAsync(ids[..5], ids[5..], Ct);
            foreach (var id in ids[..5])
                Assert.Equal(ids[5..].MaxBy(other => TensorPrimitives.Dot(copies[id], copies[other])), nearest[id]);
        }
    }

    [Fact]
    public async Task A_category_scan_stays_exact_after_deletes_and_category_changes_move_rows()
    {
        var catalog = Catalog.Generate(products: 1_000, seed: 11);
        var index = await LiveIndexAsync(catalog, Options());
        var small = catalog.Category(size: 30);
        // Deleting from the front moves rows from the back into the holes; recategorising moves products between categories.
        var deleted = catalog.Ids.Where((_, i) => i % 3 == 0).Take(200).ToList();
        await index.DeleteAsync("v1", deleted, Ct);
        var moved = catalog.Records.Skip(900).Take(20).Select(r => r with { Category = small }).ToList();
        await index.UpsertAsync("v1", moved, Ct);
        var expected = catalog.Without(deleted).With(moved);
        var filter = Filter([small]);

        Assert.Equal(SearchPlan.CategoryScan, index.PlanLive(filter));
        foreach (var query in catalog.Queries(10, seed: 12))
            Assert.Equal(expected.Exact(query, 40, filter), await index.SearchAsync(new VectorQuery(query, 40, filter), Ct));
    }

    [Fact]
    public async Task A_saved_graph_is_loaded_at_start_up_and_catches_up_with_writes_made_after_it_was_saved()
    {
        var catalog = Catalog.Generate(products: 1_000, seed: 4);
        var index = await LiveIndexAsync(catalog, Options());
        var directory = index.VersionDirectory("v1");
        Assert.True(File.Exists(Path.Combine(directory, GraphSnapshot.MetaFileName)));

        // Written after the snapshot; a process killed now has them only in the log.
        var moved = catalog.Records.Take(50).Select(r => r with { Vector = Catalog.RandomVector(new Random(r.ProductId.GetHashCode())) }).ToList();
        await index.UpsertAsync("v1", moved, Ct);
        await index.DeleteAsync("v1", catalog.Ids.Skip(50).Take(50).ToList(), Ct);
        var crashed = _indexes.OpenCrashImage(index);

        var graph = crashed.GraphOf("v1");
        Assert.NotNull(graph.Ready);
        Assert.False(graph.IsBuilding);
        foreach (var record in moved)
        {
            var hits = await crashed.SearchAsync(new VectorQuery(record.Vector, 1, ProductFilter.None), Ct);
            Assert.Equal(record.ProductId, Assert.Single(hits).ProductId);
        }
        var deleted = catalog.Ids.Skip(50).Take(50).ToHashSet();
        foreach (var query in catalog.Queries(20, seed: 5))
            Assert.DoesNotContain((await crashed.SearchAsync(new VectorQuery(query, 50, ProductFilter.None), Ct)), h => deleted.Contains(h.ProductId));
    }

    [Fact]
    public async Task A_versions_graph_keeps_the_precision_it_was_created_with_and_new_versions_get_a_changed_one()
    {
        var catalog = Catalog.Generate(products: 1_000, seed: 13);
        var index = await LiveIndexAsync(catalog, Options(VectorPrecision.F16, buildThreads: 1));
        index.Dispose();

        var reopened = _indexes.Open(index.DirectoryPath, Options(VectorPrecision.BF16, buildThreads: 1));
        // Loaded, not rebuilt: a setting change never leaves a large live version on exact scans while it rebuilds.
        var graph = reopened.GraphOf("v1");
        Assert.False(graph.IsBuilding);
        Assert.Equal(VectorPrecision.F16, graph.Ready!.Graph.Precision);
        foreach (var query in catalog.Queries(20, seed: 14))
            Assert.Equal(catalog.Exact(query, 10, ProductFilter.None), await reopened.SearchAsync(new VectorQuery(query, 10, ProductFilter.None), Ct));

        var next = (await reopened.CreateVersionAsync(Spec, Ct)).Name;
        await reopened.UpsertAsync(next, catalog.Records, Ct);
        await reopened.SetLiveVersionAsync(next, Ct);
        Assert.Equal(VectorPrecision.BF16, reopened.GraphOf(next).Ready!.Graph.Precision);

        // Saved at shutdown with their own precisions, and loaded with them again.
        var restarted = _indexes.Reopen(reopened);
        Assert.Equal(VectorPrecision.BF16, restarted.GraphOf(next).Ready!.Graph.Precision);
        await restarted.SetLiveVersionAsync("v1", Ct);
        Assert.Equal(VectorPrecision.F16, restarted.GraphOf("v1").Ready!.Graph.Precision);
        foreach (var query in catalog.Queries(20, seed: 15))
            Assert.Equal(catalog.Exact(query, 10, ProductFilter.None), await restarted.SearchAsync(new VectorQuery(query, 10, ProductFilter.None), Ct));
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("corrupt")]
    [InlineData("truncate")]
    public async Task A_missing_or_damaged_graph_file_is_rebuilt_in_the_background_while_searches_stay_exact(string damage)
    {
        var catalog = Catalog.Generate(products: 1_000, seed: 6);
        // Built on one thread, like every graph this test holds to the exact answer (two can leave a node weakly linked).
        var index = await LiveIndexAsync(catalog, Options(buildThreads: 1));
        var graphFile = Path.Combine(index.VersionDirectory("v1"), GraphSnapshot.GraphFileName);
        index.Dispose();
        switch (damage)
        {
            case "delete":
                File.Delete(graphFile);
                break;
            case "corrupt":
                using (var stream = File.Open(graphFile, FileMode.Open))
                {
                    stream.Position = stream.Length / 2;
                    stream.Write(new byte[64]);
                }
                break;
            case "truncate":
                using (var stream = File.Open(graphFile, FileMode.Open))
                    stream.SetLength(stream.Length / 3);
                break;
        }

        var reopened = _indexes.Open(index.DirectoryPath, Options(buildThreads: 1));
        var graph = reopened.GraphOf("v1");
        var query = catalog.Queries(1, seed: 7).Single();
        Assert.Equal(catalog.Exact(query, 10, ProductFilter.None), await reopened.SearchAsync(new VectorQuery(query, 10, ProductFilter.None), Ct));
        await graph.WhenReadyAsync(Ct);
        Assert.NotNull(graph.Ready);
        Assert.Equal(SearchPlan.Graph, reopened.PlanLive(ProductFilter.None));
        Assert.Equal(new SearchIndexStatus(SearchIndexState.Ready, 1_000), await reopened.DescribeSearchAsync("v1", Ct));
        Assert.Equal(catalog.Exact(query, 10, ProductFilter.None), await reopened.SearchAsync(new VectorQuery(query, 10, ProductFilter.None), Ct));
        Assert.True(File.Exists(Path.Combine(reopened.VersionDirectory("v1"), GraphSnapshot.MetaFileName)));
    }

    [Fact]
    public async Task Writes_made_while_the_graph_is_built_are_in_it_when_it_is_published()
    {
        var catalog = Catalog.Generate(products: 30_000, seed: 8);
        var index = _indexes.Create(Options(buildThreads: 1));
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.UpsertAsync(version, catalog.Records, Ct);
        var graph = index.GraphOf(version);
        Assert.Equal(SearchIndexState.Building, (await index.DescribeSearchAsync(version, Ct)).State);
        // Once the build reads its second chunk of rows, the first chunk (where the rows changed below are) is in its graph.
        while (graph.IsBuilding && graph.RowsReachedByBuild <= VersionGraph.BuildChunk) await Task.Delay(1, Ct);
        Assert.True(graph.IsBuilding, "the build ended before the writes it should see");

        // New vectors near stored products, as real catalog edits are (HNSW reaches outliers less reliably).
        var vectors = new Queue<float[]>(catalog.Queries(20 * 30, seed: 9));
        var changed = new List<VectorRecord>();
        for (var round = 0; round < 20; round++)
        {
            // Rows the build has copied get new vectors, and new rows are appended past where it has read.
            var batch = catalog.Records.Skip(round * 25).Take(25).Select(r => r with { Vector = vectors.Dequeue() })
                .Concat(Enumerable.Range(0, 5).Select(i => catalog.Records[i] with { ProductId = $"added-{round}-{i}", Vector = vectors.Dequeue() }))
                .ToList();
            await index.UpsertAsync(version, batch, Ct);
            await index.DeleteAsync(version, catalog.Ids.Skip(20_000 + round * 10).Take(10).ToList(), Ct);
            changed.AddRange(batch);
        }
        await index.SetLiveVersionAsync(version, Ct);

        Assert.NotNull(graph.Ready);
        Assert.Equal(await index.CountAsync(version, Ct), graph.Ready!.Keys.Count);
        // Each changed product's node holds its new vector: the graph itself finds it at distance 0.
        var keys = new ulong[10];
        var distances = new float[10];
        var stale = new List<string>();
        foreach (var record in changed)
        {
            Assert.True(graph.Ready.Keys.TryGetKey(record.ProductId, out var key), record.ProductId);
            var found = graph.Ready.Graph.Search(UnitVector.Normalise(record.Vector, "vector"), filter: null, keys, distances);
            var at = Array.IndexOf(keys, key, 0, found);
            if (at < 0 || distances[at] > 1e-4) stale.Add(record.ProductId);
        }
        Assert.Empty(stale);
    }

    [Fact]
    public async Task Switching_live_waits_for_the_new_versions_graph_and_small_versions_get_none()
    {
        var index = _indexes.Create(Options());
        var small = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.UpsertAsync(small, Catalog.Generate(products: 100, seed: 9).Records, Ct);
        await index.SetLiveVersionAsync(small, Ct);
        Assert.Null(index.GraphOf(small).Ready);
        Assert.Equal(SearchPlan.FullScan, index.PlanLive(ProductFilter.None));

        var large = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.UpsertAsync(large, Catalog.Generate(products: 2_000, seed: 10).Records, Ct);
        await index.SetLiveVersionAsync(large, Ct);
        Assert.NotNull(index.GraphOf(large).Ready);
        Assert.Equal(SearchPlan.Graph, index.PlanLive(ProductFilter.None));
    }

    [Fact]
    public async Task A_version_replaced_as_live_leaves_memory_keeps_its_count_and_comes_back_whole_on_rollback()
    {
        var first = Catalog.Generate(products: 1_500, seed: 11);
        var second = Catalog.Generate(products: 1_000, seed: 12);
        var index = await LiveIndexAsync(first, Options(buildThreads: 1));
        var v2 = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.UpsertAsync(v2, second.Records, Ct);
        Assert.True(index.IsResident("v1") && index.IsResident(v2));

        await index.SetLiveVersionAsync(v2, Ct);
        Assert.False(index.IsResident("v1"));
        Assert.Equal(1_500, await index.CountAsync("v1", Ct));
        Assert.Equal(new SearchIndexStatus(SearchIndexState.OnDisk, 0), await index.DescribeSearchAsync("v1", Ct));
        Assert.Equal(new SearchIndexStatus(SearchIndexState.Ready, 1_000), await index.DescribeSearchAsync(v2, Ct));
        Assert.False(index.IsResident("v1"));
        Assert.Equal(["v1", v2], (await index.ListVersionsAsync(Ct)).Select(v => v.Name).Order());

        // A rollback loads it with its saved graph, and answers as before the switch; the version it replaced leaves.
        await index.SetLiveVersionAsync("v1", Ct);
        Assert.Equal(new SearchIndexStatus(SearchIndexState.Ready, 1_500), await index.DescribeSearchAsync("v1", Ct));
        Assert.False(index.IsResident(v2));
        foreach (var query in first.Queries(10, seed: 13))
            Assert.Equal(first.Exact(query, 10, ProductFilter.None), await index.SearchAsync(new VectorQuery(query, 10, ProductFilter.None), Ct));

        // A restart loads only the live version; the other's count comes from disk, or from its log when that is gone.
        var restarted = _indexes.Reopen(index);
        Assert.True(restarted.IsResident("v1"));
        Assert.False(restarted.IsResident(v2));
        Assert.Equal(1_000, await restarted.CountAsync(v2, Ct));
        File.Delete(Path.Combine(restarted.DirectoryPath, "versions", v2, "rows.json"));
        var recounted = _indexes.Reopen(restarted);
        Assert.False(recounted.IsResident(v2));
        Assert.Equal(1_000, await recounted.CountAsync(v2, Ct));
    }

    [Fact]
    public async Task A_write_to_a_version_kept_for_rollback_is_durable_and_the_version_leaves_memory_again()
    {
        var first = Catalog.Generate(products: 600, seed: 14);
        var index = await LiveIndexAsync(first, Options());
        var v2 = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.UpsertAsync(v2, Catalog.Generate(products: 600, seed: 15).Records, Ct);
        await index.SetLiveVersionAsync(v2, Ct);

        var late = first.Records[0] with { ProductId = "late", Vector = Catalog.RandomVector(new Random(16)) };
        await index.UpsertAsync("v1", [late], Ct);
        await index.DeleteAsync("v1", [first.Records[1].ProductId], Ct);
        Assert.False(index.IsResident("v1"));
        Assert.Equal(600, await index.CountAsync("v1", Ct));

        var restarted = _indexes.Reopen(index);
        Assert.Equal(600, await restarted.CountAsync("v1", Ct));
        await restarted.SetLiveVersionAsync("v1", Ct);
        var vectors = await restarted.GetVectorsAsync(["late", first.Records[1].ProductId, first.Records[2].ProductId], Ct);
        Assert.Equal(["late", first.Records[2].ProductId], vectors.Keys.Order());
    }

    [Fact]
    public async Task Searches_running_while_versions_switch_and_leave_memory_never_fail()
    {
        var first = Catalog.Generate(products: 1_200, seed: 17);
        var index = await LiveIndexAsync(first, Options());
        var v2 = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.UpsertAsync(v2, Catalog.Generate(products: 1_200, seed: 18).Records, Ct);
        using var switching = new CancellationTokenSource();
        var queries = first.Queries(50, seed: 19).ToArray();
        var searches = 0;
        var searchers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!switching.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref searches);
                Assert.Equal(10, (await index.SearchAsync(new VectorQuery(queries[n % queries.Length], 10, ProductFilter.None), Ct)).Count);
            }
        })).ToArray();
        for (var i = 0; i < 10; i++)
        {
            // Searches in flight on each side of every switch.
            var before = Volatile.Read(ref searches);
            while (Volatile.Read(ref searches) < before + 20) await Task.Delay(1);
            await index.SetLiveVersionAsync(i % 2 == 0 ? v2 : "v1", Ct);
        }
        await switching.CancelAsync();
        await Task.WhenAll(searchers);
        Assert.Equal(1, new[] { "v1", v2 }.Count(index.IsResident));
    }

    private async Task<EmbeddedVectorIndex> LiveIndexAsync(Catalog catalog, EmbeddedIndexOptions options)
    {
        var index = _indexes.Create(options);
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.UpsertAsync(version, catalog.Records, Ct);
        await index.SetLiveVersionAsync(version, Ct);
        return index;
    }

    private static ProductFilter Filter(IReadOnlyCollection<string> categories, double? minPrice = null, double? maxPrice = null, bool inStock = false, IEnumerable<string>? exclude = null) =>
        new(categories, minPrice, maxPrice, inStock, (exclude ?? []).ToHashSet(StringComparer.Ordinal));

    private static double Recall(IReadOnlyList<VectorHit> hits, IReadOnlyList<VectorHit> exact) =>
        exact.Count == 0 ? 1 : (double)exact.Select(h => h.ProductId).Intersect(hits.Select(h => h.ProductId)).Count() / exact.Count;

    /// <summary>Clustered products with categories of chosen sizes, prices 0..100 and mixed stock, plus the exact answer to any query.</summary>
    private sealed class Catalog
    {
        private readonly Dictionary<string, VectorRecord> _byId;

        private Catalog(List<VectorRecord> records, List<(string Name, int Size)> categories)
        {
            Records = records;
            Categories = categories;
            _byId = records.ToDictionary(r => r.ProductId);
        }

        public List<VectorRecord> Records { get; }

        public List<(string Name, int Size)> Categories { get; }

        public IEnumerable<string> Ids => Records.Select(r => r.ProductId);

        public Catalog Without(IEnumerable<string> productIds)
        {
            var gone = productIds.ToHashSet();
            return new Catalog(Records.Where(r => !gone.Contains(r.ProductId)).ToList(), Categories);
        }

        public Catalog With(IEnumerable<VectorRecord> replacements)
        {
            var byId = replacements.ToDictionary(r => r.ProductId);
            return new Catalog(Records.Select(r => byId.GetValueOrDefault(r.ProductId, r)).ToList(), Categories);
        }

        public string Category(int size) => Categories.First(c => c.Size == size).Name;

        public static Catalog Generate(int products, int seed)
        {
            var random = new Random(seed);
            var centres = Enumerable.Range(0, 20).Select(_ => RandomVector(random)).ToArray();
            var sizes = new List<(string, int)> { ("tiny", 30), ("large", Math.Min(1_200, products / 2)) };
            var categoryOf = new List<string>();
            foreach (var (name, size) in sizes)
                categoryOf.AddRange(Enumerable.Repeat(name, Math.Min(size, products - categoryOf.Count)));
            while (categoryOf.Count < products)
                categoryOf.Add($"other-{categoryOf.Count % 7}");
            var records = new List<VectorRecord>(products);
            for (var i = 0; i < products; i++)
            {
                var centre = centres[random.Next(centres.Length)];
                var vector = centre.Select(x => x + (float)(random.NextDouble() - 0.5) * 0.6f).ToArray();
                records.Add(new VectorRecord($"p{i:D5}", vector, categoryOf[i], Math.Round(random.NextDouble() * 99, 2), random.Next(3) > 0, $"product {i}"));
            }
            return new Catalog(records, sizes);
        }

        public static float[] RandomVector(Random random) =>
            Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

        /// <summary>Queries near stored products, as "similar to this" and profile queries are.</summary>
        public IEnumerable<float[]> Queries(int count, int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, count).Select(_ =>
                Records[random.Next(Records.Count)].Vector.Select(x => x + (float)(random.NextDouble() - 0.5) * 0.3f).ToArray());
        }

        public bool Matches(string productId, ProductFilter filter)
        {
            var record = _byId[productId];
            return filter.Matches(productId, record.Category, record.Price, record.InStock);
        }

        /// <summary>Brute force over the records as written, independent of the index's own code.</summary>
        public IReadOnlyList<VectorHit> Exact(float[] query, int limit, ProductFilter filter)
        {
            var unitQuery = Unit(query);
            return Records
                .Where(r => filter.Matches(r.ProductId, r.Category, r.Price, r.InStock))
                .Select(r => new VectorHit(r.ProductId, TensorPrimitives.Dot(unitQuery, Unit(r.Vector))))
                .OrderByDescending(h => h.Score).ThenBy(h => h.ProductId, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
        }

        /// <summary>The exact cosine of a stored product to <paramref name="query"/>.</summary>
        public double Cosine(float[] query, string productId) => TensorPrimitives.CosineSimilarity(query, _byId[productId].Vector);

        private static float[] Unit(float[] vector)
        {
            var norm = TensorPrimitives.Norm(vector);
            return vector.Select(x => x / norm).ToArray();
        }
    }
}
