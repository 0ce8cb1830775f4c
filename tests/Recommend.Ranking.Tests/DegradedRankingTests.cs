using Recommend.Core.Errors;
using Recommend.Core.Ranking;
using Recommend.Core.Vectors;
using static Recommend.Ranking.Tests.RankingWorld;

namespace Recommend.Ranking.Tests;

/// <summary>An index outage is a fault we cannot cause in-process, so a decorator injects it.</summary>
public sealed class DegradedRankingTests : IAsyncLifetime
{
    private readonly OutageIndex outage = new();
    private readonly RankingWorld world;

    public DegradedRankingTests() => world = new RankingWorld(index => outage.Wrap(index));

    public async Task InitializeAsync()
    {
        await world.AddProductsAsync(Product("a", "RED MUG"), Product("b", "BLUE MUG"), Product("c", "GREEN MUG"));
        await world.BuyAsync("u1", "o1", Day(1), "a", "b");
        await world.BuyAsync("u2", "o2", Day(2), "a", "c");
        outage.Down = true;
    }

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task Recommend_answers_from_history_and_trending_when_the_index_is_down()
    {
        var result = await world.Engine.RecommendAsync(["a"], Options(user: "u1", includePurchased: true), RankingProfile.Default, CancellationToken.None);

        Assert.True(result.Degraded);
        Assert.NotEmpty(result.Items);
        Assert.Contains(result.Items, i => i.Reasons.Any(r => r.Kind == ReasonKind.BoughtTogether));
    }

    [Fact]
    public async Task Similar_products_report_the_outage_instead_of_an_empty_list()
    {
        await Assert.ThrowsAsync<DependencyUnavailableException>(() =>
            world.Engine.SimilarProductsAsync("a", Options(), RankingProfile.Default, CancellationToken.None));
    }

    private sealed class OutageIndex
    {
        public bool Down { get; set; }

        public IVectorIndex Wrap(IVectorIndex inner) => new FailingReads(inner, this);

        private sealed class FailingReads(IVectorIndex inner, OutageIndex outage) : IVectorIndex
        {
            public string Backend => inner.Backend;
            private Task<T> Read<T>(Func<Task<T>> read) =>
                outage.Down ? Task.FromException<T>(new DependencyUnavailableException("vector index", "index unreachable")) : read();
            public Task<IndexVersion?> GetLiveVersionAsync(CancellationToken ct) => Read(() => inner.GetLiveVersionAsync(ct));
            public Task<IReadOnlyList<IndexVersion>> ListVersionsAsync(CancellationToken ct) => inner.ListVersionsAsync(ct);
            public Task<IndexVersion> CreateVersionAsync(IndexSpec spec, CancellationToken ct) => inner.CreateVersionAsync(spec, ct);
            public Task SetLiveVersionAsync(string version, CancellationToken ct) => inner.SetLiveVersionAsync(version, ct);
            public Task DeleteVersionAsync(string version, CancellationToken ct) => inner.DeleteVersionAsync(version, ct);
            public Task UpsertAsync(string version, IReadOnlyList<VectorRecord> records, CancellationToken ct) => inner.UpsertAsync(version, records, ct);
            public Task DeleteAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct) => inner.DeleteAsync(version, productIds, ct);
            public Task<long> CountAsync(string version, CancellationToken ct) => inner.CountAsync(version, ct);
            public Task<SearchIndexStatus> DescribeSearchAsync(string version, CancellationToken ct) => inner.DescribeSearchAsync(version, ct);
            public Task<IReadOnlyList<VectorHit>> SearchAsync(VectorQuery query, CancellationToken ct) => Read(() => inner.SearchAsync(query, ct));
            public Task<IReadOnlyList<VectorHit>> SearchAsync(string version, VectorQuery query, CancellationToken ct) => Read(() => inner.SearchAsync(version, query, ct));
            public Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct) =>
                Read(() => inner.GetVectorsAsync(productIds, ct));
        }
    }
}
