using System.Numerics.Tensors;
using Recommend.Core.Catalog;
using Recommend.Core.Vectors;
using Xunit;

namespace Recommend.ContractTests;

/// <summary>
/// Behaviour every <see cref="IVectorIndex"/> backend must show, tested through the port only. Subclass it once per
/// backend; each test creates its own index. Scores are only assumed to order results and to equal the cosine
/// similarity within <see cref="ScoreTolerance"/>.
/// </summary>
public abstract class VectorIndexContract
{
    protected const int Dimension = 4;
    private const double ScoreTolerance = 1e-4;
    private static readonly IndexSpec Spec = new("contract-model", Dimension);

    protected static CancellationToken Ct => CancellationToken.None;

    /// <summary>A new, empty index that no other test shares.</summary>
    protected abstract Task<IVectorIndex> CreateIndexAsync();

    /// <summary>
    /// The same stored index as seen after a restart (dispose and open again, or reconnect). Backends that keep
    /// nothing across restarts must not pass the persistence test, so there is no default.
    /// </summary>
    protected abstract Task<IVectorIndex> ReopenAsync(IVectorIndex index);

    [Fact]
    public async Task A_new_index_has_no_versions_and_nothing_live()
    {
        var index = await CreateIndexAsync();

        Assert.Empty(await index.ListVersionsAsync(Ct));
        Assert.Null(await index.GetLiveVersionAsync(Ct));
        Assert.False(string.IsNullOrWhiteSpace(index.Backend));
    }

    [Fact]
    public async Task A_created_version_is_listed_with_its_spec_but_not_live()
    {
        var index = await CreateIndexAsync();
        var before = DateTimeOffset.UtcNow;

        var created = await index.CreateVersionAsync(Spec, Ct);

        var after = DateTimeOffset.UtcNow;
        Assert.Equal(Spec, created.Spec);
        Assert.False(created.IsLive);
        // A second of slack either side: backends may store the time at coarser precision.
        Assert.InRange(created.CreatedAt, before.AddSeconds(-1), after.AddSeconds(1));
        var listed = Assert.Single(await index.ListVersionsAsync(Ct));
        Assert.Equal((created.Name, Spec, false), (listed.Name, listed.Spec, listed.IsLive));
        Assert.InRange(listed.CreatedAt, created.CreatedAt.AddSeconds(-1), created.CreatedAt.AddSeconds(1));
        Assert.Null(await index.GetLiveVersionAsync(Ct));
        Assert.Equal(0, await index.CountAsync(created.Name, Ct));
    }

    [Fact]
    public async Task Versions_are_listed_newest_first_with_only_the_live_one_flagged()
    {
        var index = await CreateIndexAsync();
        var first = await index.CreateVersionAsync(Spec, Ct);
        var second = await index.CreateVersionAsync(new IndexSpec("other-model", 8), Ct);
        var third = await index.CreateVersionAsync(Spec, Ct);

        await index.SetLiveVersionAsync(second.Name, Ct);

        var listed = await index.ListVersionsAsync(Ct);
        Assert.Equal([third.Name, second.Name, first.Name], listed.Select(v => v.Name));
        Assert.Equal([false, true, false], listed.Select(v => v.IsLive));
        Assert.Equal(new IndexSpec("other-model", 8), listed[1].Spec);
        var live = await index.GetLiveVersionAsync(Ct);
        Assert.Equal((second.Name, second.Spec, true), (live?.Name, live?.Spec, live?.IsLive));
    }

    [Fact]
    public async Task Deleting_a_version_that_is_not_live_removes_it()
    {
        var index = await CreateIndexAsync();
        var live = await index.CreateVersionAsync(Spec, Ct);
        var old = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(old.Name, [Record("a", [1, 0, 0, 0])], Ct);
        await index.SetLiveVersionAsync(live.Name, Ct);

        await index.DeleteVersionAsync(old.Name, Ct);

        Assert.Equal([live.Name], (await index.ListVersionsAsync(Ct)).Select(v => v.Name));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => index.CountAsync(old.Name, Ct));
    }

    [Fact]
    public async Task Deleting_the_live_version_is_refused_and_keeps_it_serving()
    {
        var index = await CreateIndexAsync();
        var live = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(live.Name, [Record("a", [1, 0, 0, 0])], Ct);
        await index.SetLiveVersionAsync(live.Name, Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => index.DeleteVersionAsync(live.Name, Ct));

        Assert.Equal(live.Name, (await index.GetLiveVersionAsync(Ct))?.Name);
        Assert.Equal(["a"], await SearchIdsAsync(index, [1, 0, 0, 0]));
    }

    [Fact]
    public async Task Unknown_versions_are_reported_as_not_found()
    {
        var index = await CreateIndexAsync();
        await index.CreateVersionAsync(Spec, Ct);

        await Assert.ThrowsAsync<KeyNotFoundException>(() => index.SetLiveVersionAsync("no-such-version", Ct));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => index.UpsertAsync("no-such-version", [Record("a", [1, 0, 0, 0])], Ct));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => index.CountAsync("no-such-version", Ct));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => index.DescribeSearchAsync("no-such-version", Ct));
    }

    [Fact]
    public async Task Without_a_live_version_reads_are_empty()
    {
        var index = await CreateIndexAsync();
        var version = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(version.Name, [Record("a", [1, 0, 0, 0])], Ct);

        Assert.Empty(await index.SearchAsync(Query([1, 0, 0, 0]), Ct));
        Assert.Empty(await index.GetVectorsAsync(["a"], Ct));
        Assert.Null(await index.WeightedMeanAsync(new Dictionary<string, double> { ["a"] = 1 }, Ct));
        Assert.Empty(await index.NearestAmongAsync(["a"], ["a"], Ct));
    }

    [Fact]
    public async Task A_version_that_is_not_live_can_be_searched_by_name_before_it_goes_live()
    {
        var index = await CreateIndexAsync();
        var live = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(live.Name, [Record("live-1", [1, 0, 0, 0])], Ct);
        await index.SetLiveVersionAsync(live.Name, Ct);
        var building = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(building.Name, [Record("new-1", [0, 1, 0, 0]), Record("new-2", [1, 0.2f, 0, 0])], Ct);

        var hits = await index.SearchAsync(building.Name, Query([1, 0, 0, 0]), Ct);

        Assert.Equal(["new-2", "new-1"], hits.Select(h => h.ProductId));
        Assert.Equal(["live-1"], await SearchIdsAsync(index, [1, 0, 0, 0]));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => index.SearchAsync("no-such-version", Query([1, 0, 0, 0]), Ct));
    }

    [Fact]
    public async Task Reads_go_to_the_live_version_only_and_follow_a_switch()
    {
        var index = await CreateIndexAsync();
        var blue = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(blue.Name, [Record("blue-1", [1, 0, 0, 0]), Record("blue-2", [1, 1, 0, 0])], Ct);
        await index.SetLiveVersionAsync(blue.Name, Ct);
        var green = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(green.Name, [Record("green-1", [1, 0, 0, 0])], Ct);

        Assert.Equal(["blue-1", "blue-2"], await SearchIdsAsync(index, [1, 0, 0, 0]));
        Assert.Empty(await index.GetVectorsAsync(["green-1"], Ct));

        await index.SetLiveVersionAsync(green.Name, Ct);

        Assert.Equal(["green-1"], await SearchIdsAsync(index, [1, 0, 0, 0]));
        Assert.Equal(["green-1"], (await index.GetVectorsAsync(["blue-1", "green-1"], Ct)).Keys);
    }

    [Fact]
    public async Task Searches_during_live_switches_always_see_one_whole_version()
    {
        const int ProductsPerVersion = 12;
        const int SearchesPerReader = 200;
        var index = await CreateIndexAsync();
        var blue = await index.CreateVersionAsync(Spec, Ct);
        var green = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(blue.Name, RandomRecords("blue", ProductsPerVersion, seed: 1), Ct);
        await index.UpsertAsync(green.Name, RandomRecords("green", ProductsPerVersion, seed: 2), Ct);
        await index.SetLiveVersionAsync(blue.Name, Ct);

        // Readers do a fixed number of searches while the live version flips back and forth under them.
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var observed = new List<string[]>();
            for (var i = 0; i < SearchesPerReader; i++)
                observed.Add((await index.SearchAsync(Query([1, 0.5f, -0.5f, 0.25f], limit: 100), Ct)).Select(h => h.ProductId).ToArray());
            return observed;
        })).ToArray();
        var switchToGreen = true;
        do
        {
            await index.SetLiveVersionAsync((switchToGreen ? green : blue).Name, Ct);
            switchToGreen = !switchToGreen;
        }
        while (!readers.All(r => r.IsCompleted));

        foreach (var ids in (await Task.WhenAll(readers)).SelectMany(observed => observed))
        {
            Assert.Equal(ProductsPerVersion, ids.Length);
            var prefix = ids[0].Split('-')[0];
            Assert.All(ids, id => Assert.StartsWith(prefix + "-", id));
        }
    }

    [Fact]
    public async Task Search_returns_products_best_first_with_cosine_scores()
    {
        var (index, name) = await CreateLiveIndexAsync();
        var records = RandomRecords("p", 30, seed: 7);
        await index.UpsertAsync(name, records, Ct);
        float[] query = [0.3f, -1.2f, 0.8f, 2.0f];

        var hits = await index.SearchAsync(Query(query, limit: records.Count), Ct);

        var expected = records.OrderByDescending(r => Cosine(query, r.Vector)).Select(r => r.ProductId);
        Assert.Equal(expected, hits.Select(h => h.ProductId));
        Assert.All(hits, hit => Assert.Equal(Cosine(query, records.Single(r => r.ProductId == hit.ProductId).Vector), hit.Score, ScoreTolerance));
    }

    [Fact]
    public async Task Finding_indexed_products_names_those_with_a_vector_in_the_live_version_only()
    {
        var index = await CreateIndexAsync();
        var blue = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(blue.Name, [Record("a", [1, 0, 0, 0]), Record("b", [0, 1, 0, 0]), Record("c", [0, 0, 1, 0])], Ct);
        Assert.Empty(await index.FindIndexedAsync(["a"], Ct));
        await index.SetLiveVersionAsync(blue.Name, Ct);
        await index.DeleteAsync(blue.Name, ["b"], Ct);
        var green = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(green.Name, [Record("d", [1, 0, 0, 0])], Ct);

        var found = await index.FindIndexedAsync(["a", "b", "c", "d", "never-indexed", "a"], Ct);

        Assert.Equal(["a", "c"], found.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Scoring_named_products_gives_each_its_cosine_and_leaves_out_those_without_a_vector()
    {
        var (index, name) = await CreateLiveIndexAsync();
        var records = RandomRecords("p", 12, seed: 11);
        await index.UpsertAsync(name, records, Ct);
        var query = UnitVector([0.3f, -1.2f, 0.8f, 2.0f]);
        var named = records.Take(5).Select(r => r.ProductId).Append("never-indexed").ToList();

        var hits = await index.ScoreAsync(query, named, Ct);

        Assert.Equal(named.Take(5).Order(StringComparer.Ordinal), hits.Select(h => h.ProductId).Order(StringComparer.Ordinal));
        Assert.All(hits, hit => Assert.Equal(Cosine(query, records.Single(r => r.ProductId == hit.ProductId).Vector), hit.Score, ScoreTolerance));
        Assert.Empty(await index.ScoreAsync(UnitVector([1, 0, 0]), named, Ct));
    }

    [Fact]
    public async Task The_weighted_mean_of_named_products_is_their_weighted_unit_vectors_summed_at_unit_length()
    {
        var (index, name) = await CreateLiveIndexAsync();
        var records = RandomRecords("p", 12, seed: 12);
        await index.UpsertAsync(name, records, Ct);
        var weights = new Dictionary<string, double> { ["p-1"] = 1, ["p-4"] = 0.25, ["never-indexed"] = 5, ["p-7"] = 0.6 };

        var mean = await index.WeightedMeanAsync(weights, Ct);

        var expected = new float[Dimension];
        foreach (var (id, weight) in weights.Where(w => w.Key != "never-indexed"))
            TensorPrimitives.MultiplyAdd(UnitVector(records.Single(r => r.ProductId == id).Vector), (float)weight, expected, expected);
        AssertVector(expected, Assert.IsType<float[]>(mean));
        Assert.Null(await index.WeightedMeanAsync(new Dictionary<string, double> { ["never-indexed"] = 1 }, Ct));
        // Opposite vectors of equal weight cancel out: there is no direction to be near.
        await index.UpsertAsync(name, [Record("east", [1, 0, 0, 0]), Record("west", [-1, 0, 0, 0])], Ct);
        Assert.Null(await index.WeightedMeanAsync(new Dictionary<string, double> { ["east"] = 1, ["west"] = 1 }, Ct));
    }

    [Fact]
    public async Task Each_named_product_is_attributed_to_the_most_similar_of_the_others_that_have_a_vector()
    {
        var (index, name) = await CreateLiveIndexAsync();
        await index.UpsertAsync(name,
        [
            Record("mug", [1, 0, 0, 0]), Record("teapot", [0, 1, 0, 0]),
            Record("cup", [0.9f, 0.2f, 0, 0]), Record("kettle", [0.2f, 0.9f, 0, 0]), Record("rake", [0, 0, 1, 0]),
        ], Ct);

        var nearest = await index.NearestAmongAsync(["mug", "teapot", "never-indexed"], ["rake", "never-indexed-either", "cup", "kettle"], Ct);

        Assert.Equal(new Dictionary<string, string> { ["mug"] = "cup", ["teapot"] = "kettle" }, nearest);
        Assert.Empty(await index.NearestAmongAsync(["mug"], ["never-indexed"], Ct));
    }

    [Fact]
    public async Task Search_scores_do_not_depend_on_vector_length()
    {
        var (index, name) = await CreateLiveIndexAsync();
        await index.UpsertAsync(name, [Record("same-direction", [10, 0, 0, 0]), Record("diagonal", [0.1f, 0.1f, 0, 0])], Ct);

        var hits = await index.SearchAsync(Query([0.5f, 0, 0, 0]), Ct);

        Assert.Equal(["same-direction", "diagonal"], hits.Select(h => h.ProductId));
        Assert.Equal(1.0, hits[0].Score, ScoreTolerance);
        Assert.Equal(Math.Sqrt(0.5), hits[1].Score, ScoreTolerance);
    }

    [Fact]
    public async Task Search_returns_at_most_the_limit_taking_the_best()
    {
        var (index, name) = await CreateLiveIndexAsync();
        var records = RandomRecords("p", 25, seed: 11);
        await index.UpsertAsync(name, records, Ct);
        float[] query = [1, 1, 0, -1];

        var hits = await index.SearchAsync(Query(query, limit: 5), Ct);

        var expected = records.OrderByDescending(r => Cosine(query, r.Vector)).Take(5).Select(r => r.ProductId);
        Assert.Equal(expected, hits.Select(h => h.ProductId));
    }

    [Fact]
    public async Task Category_filter_keeps_only_the_listed_categories()
    {
        var (index, name) = await CreateLiveIndexAsync();
        await index.UpsertAsync(name,
        [
            Record("toy", [1, 0, 0, 0], category: "toys"),
            Record("book", [1, 0.1f, 0, 0], category: "books"),
            Record("rake", [1, 0.2f, 0, 0], category: "garden"),
        ], Ct);

        var hits = await index.SearchAsync(Query([1, 0, 0, 0], filter: ProductFilter.None with { Categories = ["toys", "garden"] }), Ct);

        Assert.Equal(["toy", "rake"], hits.Select(h => h.ProductId));
    }

    [Fact]
    public async Task Price_bounds_are_inclusive()
    {
        var (index, name) = await CreateLiveIndexAsync();
        await index.UpsertAsync(name,
        [
            Record("below", [1, 0, 0, 0], price: 9.99),
            Record("at-min", [1, 0.1f, 0, 0], price: 10),
            Record("between", [1, 0.2f, 0, 0], price: 12.5),
            Record("at-max", [1, 0.3f, 0, 0], price: 15),
            Record("above", [1, 0.4f, 0, 0], price: 15.01),
        ], Ct);

        var between = await index.SearchAsync(Query([1, 0, 0, 0], filter: ProductFilter.None with { MinPrice = 10, MaxPrice = 15 }), Ct);
        var fromMin = await index.SearchAsync(Query([1, 0, 0, 0], filter: ProductFilter.None with { MinPrice = 12.5 }), Ct);
        var upToMax = await index.SearchAsync(Query([1, 0, 0, 0], filter: ProductFilter.None with { MaxPrice = 10 }), Ct);

        Assert.Equal(["at-min", "between", "at-max"], between.Select(h => h.ProductId));
        Assert.Equal(["between", "at-max", "above"], fromMin.Select(h => h.ProductId));
        Assert.Equal(["below", "at-min"], upToMax.Select(h => h.ProductId));
    }

    [Fact]
    public async Task In_stock_filter_drops_products_that_are_out_of_stock()
    {
        var (index, name) = await CreateLiveIndexAsync();
        await index.UpsertAsync(name,
        [
            Record("sold-out", [1, 0, 0, 0], inStock: false),
            Record("available", [1, 0.5f, 0, 0], inStock: true),
        ], Ct);

        var inStockOnly = await index.SearchAsync(Query([1, 0, 0, 0], filter: ProductFilter.None with { InStockOnly = true }), Ct);
        var unfiltered = await index.SearchAsync(Query([1, 0, 0, 0]), Ct);

        Assert.Equal(["available"], inStockOnly.Select(h => h.ProductId));
        Assert.Equal(["sold-out", "available"], unfiltered.Select(h => h.ProductId));
    }

    [Fact]
    public async Task Excluded_products_are_never_returned()
    {
        var (index, name) = await CreateLiveIndexAsync();
        await index.UpsertAsync(name, [Record("a", [1, 0, 0, 0]), Record("b", [1, 0.5f, 0, 0]), Record("c", [1, 1, 0, 0])], Ct);

        var hits = await index.SearchAsync(Query([1, 0, 0, 0], filter: ProductFilter.None with { ExcludeProductIds = ["a", "c", "not-indexed"] }), Ct);

        Assert.Equal(["b"], hits.Select(h => h.ProductId));
    }

    [Fact]
    public async Task Combined_filters_must_all_match_and_still_honour_the_limit()
    {
        var (index, name) = await CreateLiveIndexAsync();
        var records = RandomRecords("p", 60, seed: 5);
        await index.UpsertAsync(name, records, Ct);
        var filter = new ProductFilter(["toys", "garden"], MinPrice: 20, MaxPrice: 80, InStockOnly: true,
            ExcludeProductIds: records.Where((_, i) => i % 5 == 0).Select(r => r.ProductId).ToHashSet());
        float[] query = [-0.5f, 1, 0.25f, 1];

        var hits = await index.SearchAsync(Query(query, limit: 4, filter: filter), Ct);

        var expected = records
            .Where(r => filter.Matches(r.ProductId, r.Category, r.Price, r.InStock))
            .OrderByDescending(r => Cosine(query, r.Vector))
            .Take(4)
            .Select(r => r.ProductId)
            .ToList();
        Assert.Equal(4, expected.Count);
        Assert.Equal(expected, hits.Select(h => h.ProductId));
    }

    [Fact]
    public async Task Upsert_replaces_the_vector_and_payload_of_an_existing_product()
    {
        var (index, name) = await CreateLiveIndexAsync();
        await index.UpsertAsync(name, [Record("a", [1, 0, 0, 0], category: "toys", price: 5), Record("b", [0, 1, 0, 0])], Ct);

        await index.UpsertAsync(name, [Record("a", [0, 0, 3, 0], category: "books", price: 50)], Ct);

        Assert.Equal(2, await index.CountAsync(name, Ct));
        Assert.Equal(["a"], await SearchIdsAsync(index, [0, 0, 1, 0], limit: 1));
        var books = await index.SearchAsync(Query([1, 0, 0, 0], filter: ProductFilter.None with { Categories = ["books"], MinPrice = 40 }), Ct);
        Assert.Equal(["a"], books.Select(h => h.ProductId));
        var toys = await index.SearchAsync(Query([1, 0, 0, 0], filter: ProductFilter.None with { Categories = ["toys"] }), Ct);
        Assert.DoesNotContain("a", toys.Select(h => h.ProductId));
        AssertVector([0, 0, 1, 0], (await index.GetVectorsAsync(["a"], Ct))["a"]);
    }

    [Fact]
    public async Task Deleted_products_disappear_from_count_search_and_vectors()
    {
        var (index, name) = await CreateLiveIndexAsync();
        await index.UpsertAsync(name, [Record("a", [1, 0, 0, 0]), Record("b", [1, 1, 0, 0]), Record("c", [0, 1, 0, 0])], Ct);

        await index.DeleteAsync(name, ["a", "never-indexed"], Ct);

        Assert.Equal(2, await index.CountAsync(name, Ct));
        Assert.Equal(["b", "c"], await SearchIdsAsync(index, [1, 0, 0, 0]));
        Assert.Equal(["b"], (await index.GetVectorsAsync(["a", "b"], Ct)).Keys);
    }

    [Fact]
    public async Task Count_is_per_version()
    {
        var index = await CreateIndexAsync();
        var small = await index.CreateVersionAsync(Spec, Ct);
        var large = await index.CreateVersionAsync(Spec, Ct);

        await index.UpsertAsync(small.Name, RandomRecords("s", 3, seed: 1), Ct);
        await index.UpsertAsync(large.Name, RandomRecords("l", 17, seed: 2), Ct);

        Assert.Equal(3, await index.CountAsync(small.Name, Ct));
        Assert.Equal(17, await index.CountAsync(large.Name, Ct));
    }

    [Fact]
    public async Task A_small_version_live_or_not_is_searched_exactly()
    {
        var index = await CreateIndexAsync();
        var live = await index.CreateVersionAsync(Spec, Ct);
        var next = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(live.Name, RandomRecords("a", 50, seed: 3), Ct);
        await index.SetLiveVersionAsync(live.Name, Ct);

        Assert.Equal(new SearchIndexStatus(SearchIndexState.Exact, 0), await index.DescribeSearchAsync(live.Name, Ct));
        Assert.Equal(new SearchIndexStatus(SearchIndexState.Exact, 0), await index.DescribeSearchAsync(next.Name, Ct));
    }

    [Fact]
    public async Task Get_vectors_returns_the_stored_normalised_vectors_of_known_ids_only()
    {
        var (index, name) = await CreateLiveIndexAsync();
        var records = RandomRecords("p", 5, seed: 3);
        await index.UpsertAsync(name, records, Ct);

        var vectors = await index.GetVectorsAsync(["p-1", "p-3", "missing"], Ct);

        Assert.Equal(["p-1", "p-3"], vectors.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, vector) in vectors)
            AssertVector(records.Single(r => r.ProductId == id).Vector, vector);
    }

    [Fact]
    public async Task Vectors_of_the_wrong_dimension_are_rejected()
    {
        var (index, name) = await CreateLiveIndexAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => index.UpsertAsync(name, [Record("short", [1, 0, 0])], Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => index.UpsertAsync(name, [Record("long", [1, 0, 0, 0, 0])], Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => index.SearchAsync(Query([1, 0, 0]), Ct));

        Assert.Equal(0, await index.CountAsync(name, Ct));
    }

    [Fact]
    public async Task Versions_live_pointer_and_data_survive_a_reopen()
    {
        var index = await CreateIndexAsync();
        var retired = await index.CreateVersionAsync(Spec, Ct);
        var live = await index.CreateVersionAsync(Spec, Ct);
        var records = RandomRecords("p", 10, seed: 9);
        await index.UpsertAsync(live.Name, records, Ct);
        await index.UpsertAsync(live.Name, [Record("p-0", [0, 0, 0, 1], category: "books")], Ct);
        await index.DeleteAsync(live.Name, ["p-1"], Ct);
        await index.SetLiveVersionAsync(live.Name, Ct);
        var versionsBefore = await index.ListVersionsAsync(Ct);

        var reopened = await ReopenAsync(index);

        Assert.Equal(versionsBefore.Select(v => (v.Name, v.Spec, v.IsLive)), (await reopened.ListVersionsAsync(Ct)).Select(v => (v.Name, v.Spec, v.IsLive)));
        Assert.Equal(live.Name, (await reopened.GetLiveVersionAsync(Ct))?.Name);
        Assert.Equal(9, await reopened.CountAsync(live.Name, Ct));
        Assert.Equal(0, await reopened.CountAsync(retired.Name, Ct));
        var vectors = await reopened.GetVectorsAsync(records.Select(r => r.ProductId).ToList(), Ct);
        Assert.DoesNotContain("p-1", vectors.Keys);
        AssertVector([0, 0, 0, 1], vectors["p-0"]);
        foreach (var record in records.Where(r => r.ProductId is not ("p-0" or "p-1")))
            AssertVector(record.Vector, vectors[record.ProductId]);
        var books = await reopened.SearchAsync(Query([0, 0, 0, 1], filter: ProductFilter.None with { Categories = ["books"] }), Ct);
        Assert.Equal("p-0", books[0].ProductId);
    }

    /// <summary>A fresh index with one live, empty version of the suite's spec.</summary>
    protected async Task<(IVectorIndex Index, string Version)> CreateLiveIndexAsync()
    {
        var index = await CreateIndexAsync();
        var version = await index.CreateVersionAsync(Spec, Ct);
        await index.SetLiveVersionAsync(version.Name, Ct);
        return (index, version.Name);
    }

    protected static VectorRecord Record(string id, float[] vector, string category = "toys", double price = 10, bool inStock = true) =>
        new(id, vector, category, price, inStock, $"Product {id}");

    protected static VectorQuery Query(float[] vector, int limit = 10, ProductFilter? filter = null) =>
        new(vector, limit, filter ?? ProductFilter.None);

    /// <summary>Products "{prefix}-0" … with seeded random vectors and payloads spread over three categories.</summary>
    protected static List<VectorRecord> RandomRecords(string prefix, int count, int seed)
    {
        string[] categories = ["toys", "books", "garden"];
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => new VectorRecord(
                $"{prefix}-{i}",
                Enumerable.Range(0, Dimension).Select(_ => random.NextSingle() * 2 - 1).ToArray(),
                categories[i % categories.Length],
                Math.Round(1 + random.NextDouble() * 99, 2),
                random.NextDouble() < 0.7,
                $"Product {prefix}-{i}"))
            .ToList();
    }

    /// <summary>The reference the index is held to, computed independently of any backend.</summary>
    protected static double Cosine(float[] a, float[] b) => TensorPrimitives.CosineSimilarity(a, b);

    private static float[] UnitVector(float[] raw)
    {
        var unit = raw.ToArray();
        TensorPrimitives.Divide(unit, TensorPrimitives.Norm(unit), unit);
        return unit;
    }

    /// <summary>Asserts <paramref name="actual"/> is <paramref name="raw"/> scaled to unit length.</summary>
    protected static void AssertVector(float[] raw, float[] actual)
    {
        var norm = TensorPrimitives.Norm(raw);
        Assert.Equal(raw.Length, actual.Length);
        for (var i = 0; i < raw.Length; i++)
            Assert.Equal(raw[i] / norm, actual[i], 1e-5);
    }

    private static async Task<string[]> SearchIdsAsync(IVectorIndex index, float[] query, int limit = 10) =>
        (await index.SearchAsync(Query(query, limit), Ct)).Select(h => h.ProductId).ToArray();
}
