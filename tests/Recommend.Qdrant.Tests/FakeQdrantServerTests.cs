using Grpc.Core;
using Qdrant.Client;
using Qdrant.Client.Grpc;
using static Qdrant.Client.Grpc.Conditions;
using QdrantRange = Qdrant.Client.Grpc.Range;

namespace Recommend.Qdrant.Tests;

/// <summary>
/// The test double keeps the Qdrant semantics the adapter relies on, checked with Qdrant's own client,
/// including the parts the adapter's contract tests cannot reach (should clauses, missing fields, alias atomicity).
/// </summary>
public sealed class FakeQdrantServerTests(FakeQdrantFixture fixture) : IClassFixture<FakeQdrantFixture>, IDisposable
{
    private readonly QdrantClient _client = new(fixture.Server.Url, FakeQdrantFixture.ApiKey);

    public void Dispose() => _client.Dispose();

    private async Task<string> CollectionAsync(params (ulong Id, float[] Vector, Dictionary<string, Value> Payload)[] points)
    {
        var name = FakeQdrantFixture.UniqueAlias("double");
        await _client.CreateCollectionAsync(name, new VectorParams { Size = 2, Distance = Distance.Cosine });
        if (points.Length > 0)
        {
            await _client.UpsertAsync(name, points.Select(p =>
            {
                var point = new PointStruct { Id = p.Id, Vectors = p.Vector };
                point.Payload.Add(p.Payload);
                return point;
            }).ToList());
        }
        return name;
    }

    [Fact]
    public async Task Cosine_collections_store_unit_vectors_and_rank_by_cosine()
    {
        var name = await CollectionAsync((1, [3, 4], []), (2, [1, 0], []), (3, [0, -2], []));

        var stored = await _client.RetrieveAsync(name, [(PointId)1ul], withPayload: false, withVectors: true);
        var hits = await _client.QueryAsync(name, query: new float[] { 10, 0 });

        Assert.Equal([0.6f, 0.8f], stored.Single().Vectors.Vector.Dense.Data);
        Assert.Equal([2ul, 1ul, 3ul], hits.Select(h => h.Id.Num));
        Assert.Equal([1f, 0.6f, 0f], hits.Select(h => h.Score), new ToleranceComparer(1e-6f));
    }

    [Fact]
    public async Task Filters_follow_qdrant_semantics()
    {
        var name = await CollectionAsync(
            (1, [1, 0], new() { ["color"] = "red", ["size"] = 3 }),
            (2, [1, 0], new() { ["color"] = "blue", ["size"] = 7.5 }),
            (3, [1, 0], new() { ["size"] = 5 }),
            (4, [1, 0], new() { ["color"] = new[] { "green", "red" } }));

        Assert.Equal(new ulong[] { 1, 4 }, await MatchingAsync(name, MatchKeyword("color", "red")));
        Assert.Equal(new ulong[] { 2, 4 }, await MatchingAsync(name, Match("color", ["blue", "green"])));
        Assert.Equal(new ulong[] { 2, 3 }, await MatchingAsync(name, Range("size", new QdrantRange { Gte = 5 })));
        Assert.Empty(await MatchingAsync(name, MatchKeyword("color", "RED")));
        // A condition on a missing field is false, so must_not keeps the point.
        Assert.Equal(new ulong[] { 2, 3 }, await MatchingAsync(name, new Filter { MustNot = { MatchKeyword("color", "red") } }));
        Assert.Equal(new ulong[] { 1, 2 }, await MatchingAsync(name, new Filter
        {
            Should = { MatchKeyword("color", "blue"), Range("size", new QdrantRange { Lt = 4 }) },
        }));
        Assert.Equal(new ulong[] { 3 }, await MatchingAsync(name, new Filter
        {
            Must = { Range("size", new QdrantRange { Gt = 3 }) },
            MustNot = { HasId(2ul) },
        }));
    }

    private async Task<ulong[]> MatchingAsync(string collection, Filter filter) =>
        (await _client.QueryAsync(collection, query: new float[] { 1, 0 }, filter: filter)).Select(h => h.Id.Num).Order().ToArray();

    [Fact]
    public async Task Alias_actions_apply_in_order_and_all_or_nothing()
    {
        var blue = await CollectionAsync();
        var green = await CollectionAsync();
        var alias = FakeQdrantFixture.UniqueAlias("alias");

        await _client.UpdateAliasesAsync([Create(alias, blue), Delete(alias), Create(alias, green)]);
        var failed = await Assert.ThrowsAsync<RpcException>(() => _client.UpdateAliasesAsync([Delete(alias), Delete(alias + "-missing")]));

        Assert.Equal(StatusCode.NotFound, failed.StatusCode);
        Assert.Equal(green, (await _client.ListAliasesAsync()).Single(a => a.AliasName == alias).CollectionName);
    }

    private static AliasOperations Create(string alias, string collection) =>
        new() { CreateAlias = new CreateAlias { AliasName = alias, CollectionName = collection } };

    private static AliasOperations Delete(string alias) => new() { DeleteAlias = new DeleteAlias { AliasName = alias } };

    [Fact]
    public async Task Missing_collections_are_not_found_and_wrong_dimensions_invalid()
    {
        var name = await CollectionAsync();

        var missing = await Assert.ThrowsAsync<RpcException>(() => _client.CountAsync("no-such-collection"));
        var upsert = await Assert.ThrowsAsync<RpcException>(() => _client.UpsertAsync(name, [new PointStruct { Id = 1ul, Vectors = new float[] { 1, 2, 3 } }]));
        var query = await Assert.ThrowsAsync<RpcException>(() => _client.QueryAsync(name, query: new float[] { 1 }));

        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, upsert.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, query.StatusCode);
    }

    [Fact]
    public async Task Every_call_but_the_health_check_needs_the_api_key()
    {
        using var anonymous = new QdrantClient(fixture.Server.Url);

        var refused = await Assert.ThrowsAsync<RpcException>(() => anonymous.ListCollectionsAsync());

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.False(string.IsNullOrEmpty((await anonymous.HealthAsync()).Version));
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
