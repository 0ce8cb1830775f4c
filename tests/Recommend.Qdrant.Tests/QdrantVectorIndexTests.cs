using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Polly.CircuitBreaker;
using Qdrant.Client.Grpc;
using Recommend.Core.Catalog;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;
using Recommend.Testing.Qdrant;

namespace Recommend.Qdrant.Tests;

/// <summary>What the contract cannot see: the requests the adapter sends, authentication, and failure behaviour.</summary>
public sealed class QdrantVectorIndexTests(FakeQdrantFixture fixture) : IClassFixture<FakeQdrantFixture>, IDisposable
{
    private static readonly IndexSpec Spec = new("test-model", 4);
    // Far below the fake server's 30 s delay; a 1 s budget failed once (1.15 s) while the whole suite loaded both cores.
    private static readonly TimeSpan FailFastBudget = TimeSpan.FromSeconds(3);
    private static CancellationToken Ct => CancellationToken.None;

    private readonly List<QdrantVectorIndex> _opened = [];
    private FakeQdrantServer Server => fixture.Server;

    private QdrantVectorIndex Open(QdrantIndexOptions? options = null)
    {
        var index = new QdrantVectorIndex(options ?? Options());
        _opened.Add(index);
        return index;
    }

    private QdrantIndexOptions Options(string purpose = "adapter") => new()
    {
        Url = Server.Url,
        ApiKey = FakeQdrantFixture.ApiKey,
        Alias = FakeQdrantFixture.UniqueAlias(purpose),
    };

    public void Dispose() => _opened.ForEach(i => i.Dispose());

    [Fact]
    public async Task Collection_options_reach_the_create_collection_request()
    {
        var index = Open(Options() with { ShardCount = 3, ReplicationFactor = 2, OnDiskVectors = true, ScalarInt8Quantization = true });

        var version = await index.CreateVersionAsync(Spec, Ct);

        var request = Server.RequestsOf<CreateCollection>().Single(r => r.CollectionName == version.Name);
        Assert.Equal(3u, request.ShardNumber);
        Assert.Equal(2u, request.ReplicationFactor);
        var vectors = request.VectorsConfig.Params;
        Assert.Equal(4ul, vectors.Size);
        Assert.Equal(Distance.Cosine, vectors.Distance);
        Assert.Equal(Memory.Cold, vectors.Memory);
        Assert.Equal(QuantizationType.Int8, request.QuantizationConfig.Scalar.Type);
        Assert.Equal(Memory.Cached, request.QuantizationConfig.Scalar.Memory);
        Assert.Equal("test-model", request.Metadata["model_id"].StringValue);
        Assert.Equal(4, request.Metadata["dimension"].IntegerValue);
    }

    [Fact]
    public async Task The_search_status_follows_the_collection_status_and_its_indexed_vectors()
    {
        await using var server = await FakeQdrantServer.StartAsync(FakeQdrantFixture.ApiKey);
        server.State.IndexingThreshold = 20;
        var index = Open(Options() with { Url = server.Url });
        var small = await index.CreateVersionAsync(Spec, Ct);
        var large = await index.CreateVersionAsync(Spec, Ct);
        var records = Enumerable.Range(0, 30).Select(i => new VectorRecord($"p{i}", [1, i, 0, 1], "c", 1, true, "t")).ToList();
        await index.UpsertAsync(small.Name, records.Take(5).ToList(), Ct);
        await index.UpsertAsync(large.Name, records, Ct);

        // Green below the indexing threshold: Qdrant scans the segment exactly.
        Assert.Equal(new SearchIndexStatus(SearchIndexState.Exact, 0), await index.DescribeSearchAsync(small.Name, Ct));
        Assert.Equal(new SearchIndexStatus(SearchIndexState.Ready, 30), await index.DescribeSearchAsync(large.Name, Ct));
        server.State.SetOptimizing(large.Name, true);
        Assert.Equal(new SearchIndexStatus(SearchIndexState.Building, 0), await index.DescribeSearchAsync(large.Name, Ct));
    }

    [Fact]
    public async Task By_default_vectors_stay_in_memory_unquantised_on_one_shard()
    {
        var version = await Open().CreateVersionAsync(Spec, Ct);

        var request = Server.RequestsOf<CreateCollection>().Single(r => r.CollectionName == version.Name);
        Assert.Equal(1u, request.ShardNumber);
        Assert.Equal(1u, request.ReplicationFactor);
        Assert.False(request.VectorsConfig.Params.HasMemory);
        Assert.Null(request.QuantizationConfig);
    }

    [Fact]
    public async Task Every_filtered_payload_field_gets_an_index_of_its_type()
    {
        var version = await Open().CreateVersionAsync(Spec, Ct);

        var indexes = Server.State.PayloadIndexes(version.Name);

        Assert.Equal(new Dictionary<string, PayloadSchemaType>
        {
            ["product_id"] = PayloadSchemaType.Keyword,
            ["category"] = PayloadSchemaType.Keyword,
            ["price"] = PayloadSchemaType.Float,
            ["in_stock"] = PayloadSchemaType.Bool,
        }, indexes);
    }

    [Fact]
    public async Task Going_live_is_one_update_aliases_request_that_drops_the_old_alias_and_adds_the_new()
    {
        var options = Options();
        var index = Open(options);
        var blue = await index.CreateVersionAsync(Spec, Ct);
        var green = await index.CreateVersionAsync(Spec, Ct);
        await index.SetLiveVersionAsync(blue.Name, Ct);
        var before = AliasChanges(options.Alias).Count;

        await index.SetLiveVersionAsync(green.Name, Ct);

        var switches = AliasChanges(options.Alias).Skip(before).ToList();
        var actions = Assert.Single(switches).Actions;
        Assert.Collection(actions,
            a => Assert.Equal(options.Alias, a.DeleteAlias.AliasName),
            a => Assert.Equal((options.Alias, green.Name), (a.CreateAlias.AliasName, a.CreateAlias.CollectionName)));
    }

    private List<ChangeAliases> AliasChanges(string alias) =>
        Server.RequestsOf<ChangeAliases>()
            .Where(r => r.Actions.Any(a => a.CreateAlias?.AliasName == alias || a.DeleteAlias?.AliasName == alias))
            .ToList();

    [Fact]
    public async Task Upserts_go_in_batches_that_wait_until_applied()
    {
        var index = Open(Options() with { UpsertBatchSize = 2 });
        var version = await index.CreateVersionAsync(Spec, Ct);
        var records = Enumerable.Range(0, 5).Select(i => new VectorRecord($"p{i}", [1, i, 0, 0], "toys", 10, true, $"P{i}")).ToList();

        await index.UpsertAsync(version.Name, records, Ct);

        var batches = Server.RequestsOf<UpsertPoints>().Where(r => r.CollectionName == version.Name).ToList();
        Assert.Equal([2, 2, 1], batches.Select(b => b.Points.Count));
        Assert.All(batches, b => Assert.True(b.Wait));
    }

    [Fact]
    public async Task Points_are_keyed_by_the_derived_uuid_and_carry_the_string_id_and_payload()
    {
        var index = Open();
        var version = await index.CreateVersionAsync(Spec, Ct);

        await index.UpsertAsync(version.Name, [new VectorRecord("85123A", [1, 0, 0, 0], "decor", 2.55, false, "WHITE HANGING HEART")], Ct);

        var point = Server.RequestsOf<UpsertPoints>().Single(r => r.CollectionName == version.Name).Points.Single();
        Assert.Equal(PointIds.ForProduct("85123A"), Guid.Parse(point.Id.Uuid));
        Assert.Equal("85123A", point.Payload["product_id"].StringValue);
        Assert.Equal("decor", point.Payload["category"].StringValue);
        Assert.Equal(2.55, point.Payload["price"].DoubleValue);
        Assert.False(point.Payload["in_stock"].BoolValue);
        Assert.Equal("WHITE HANGING HEART", point.Payload["title"].StringValue);
    }

    [Fact]
    public async Task The_filter_is_translated_to_qdrant_conditions_on_the_indexed_fields()
    {
        var options = Options();
        var index = Open(options);
        var version = await index.CreateVersionAsync(Spec, Ct);
        await index.SetLiveVersionAsync(version.Name, Ct);

        await index.SearchAsync(new VectorQuery([1, 0, 0, 0], 3, new ProductFilter(["toys", "books"], 5, 20, true, ["85123A"])), Ct);

        var filter = Server.RequestsOf<QueryPoints>().Single(r => r.CollectionName == options.Alias).Filter;
        Assert.Equal(
            [("category", "keywords"), ("price", "range"), ("in_stock", "boolean")],
            filter.Must.Select(c => (c.Field.Key, c.Field.Match?.MatchValueCase.ToString().ToLowerInvariant() ?? "range")));
        Assert.Equal(["toys", "books"], filter.Must[0].Field.Match.Keywords.Strings);
        Assert.Equal((5.0, 20.0), (filter.Must[1].Field.Range.Gte, filter.Must[1].Field.Range.Lte));
        var excluded = Assert.Single(Assert.Single(filter.MustNot).HasId.HasId);
        Assert.Equal(PointIds.ForProduct("85123A"), Guid.Parse(excluded.Uuid));
    }

    [Fact]
    public async Task Versions_of_another_alias_sharing_the_prefix_are_not_listed()
    {
        var shop = Options("shop");
        var shopEu = shop with { Alias = shop.Alias + "_eu" };
        await Open(shopEu).CreateVersionAsync(Spec, Ct);

        Assert.Empty(await Open(shop).ListVersionsAsync(Ct));
    }

    [Theory]
    [InlineData("wrong-key")]
    [InlineData(null)]
    public async Task A_wrong_or_missing_api_key_is_an_authentication_error_not_an_outage(string? apiKey)
    {
        var index = Open(Options() with { ApiKey = apiKey });

        // Repeated on purpose: rejections must not count towards opening the circuit.
        for (var i = 0; i < 5; i++)
        {
            var error = await Assert.ThrowsAsync<DependencyUnavailableException>(() => index.ListVersionsAsync(Ct));
            Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(error.InnerException).StatusCode);
            Assert.IsNotType<VectorIndexUnavailableException>(error); // a refusal, not an outage: no retry, no breaker
        }
    }

    [Fact]
    public async Task The_health_check_answers_without_an_api_key()
    {
        var index = Open(Options() with { ApiKey = null });

        Assert.False(string.IsNullOrEmpty(await index.CheckHealthAsync(Ct)));
    }

    [Fact]
    public async Task Against_a_closed_port_reads_fail_fast_as_unavailable_and_the_circuit_opens()
    {
        var index = Open(Options() with { Url = new Uri($"http://127.0.0.1:{ClosedPort()}") });

        var first = await TimedFailureAsync(() => index.SearchAsync(new VectorQuery([1, 0, 0, 0], 5, ProductFilter.None), Ct));
        var second = await TimedFailureAsync(() => index.GetVectorsAsync(["a"], Ct));

        Assert.Equal(StatusCode.Unavailable, Assert.IsType<RpcException>(first.InnerException).StatusCode);
        Assert.IsType<BrokenCircuitException>(second.InnerException);
    }

    [Fact]
    public async Task When_the_server_goes_away_reads_fail_fast_and_stop_reaching_for_it()
    {
        await using var server = await FakeQdrantServer.StartAsync(FakeQdrantFixture.ApiKey);
        var index = Open(Options() with { Url = server.Url });
        var version = await index.CreateVersionAsync(Spec, Ct);
        await index.UpsertAsync(version.Name, [new VectorRecord("a", [1, 0, 0, 0], "toys", 1, true, "A")], Ct);
        await index.SetLiveVersionAsync(version.Name, Ct);
        Assert.Single(await index.SearchAsync(new VectorQuery([1, 0, 0, 0], 5, ProductFilter.None), Ct));

        await server.StopAsync();

        // The breaker opens on the failure ratio, so the successes before the outage buy a few more attempts.
        var failures = new List<VectorIndexUnavailableException>();
        do
            failures.Add(await TimedFailureAsync(() => index.SearchAsync(new VectorQuery([1, 0, 0, 0], 5, ProductFilter.None), Ct)));
        while (failures[^1].InnerException is not BrokenCircuitException && failures.Count < 10);
        Assert.IsType<BrokenCircuitException>(failures[^1].InnerException);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_cut_off_by_the_timeout_and_reported_unavailable()
    {
        await using var server = await FakeQdrantServer.StartAsync(FakeQdrantFixture.ApiKey);
        var index = Open(Options() with { Url = server.Url, Timeout = TimeSpan.FromMilliseconds(100), ReadRetries = 1 });
        server.State.ResponseDelay = TimeSpan.FromSeconds(30);

        var error = await TimedFailureAsync(() => index.ListVersionsAsync(Ct));

        Assert.IsType<Polly.Timeout.TimeoutRejectedException>(error.InnerException);
        Assert.Equal(2, server.Requests.Count); // the first attempt and one retry
    }

    [Fact]
    public async Task A_cancelled_caller_gets_a_cancellation_not_an_outage()
    {
        var index = Open();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => index.ListVersionsAsync(cancelled.Token));
    }

    private static async Task<VectorIndexUnavailableException> TimedFailureAsync(Func<Task> read)
    {
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<VectorIndexUnavailableException>(read);
        Assert.True(clock.Elapsed < FailFastBudget, $"took {clock.Elapsed}");
        // Clients see this message: it names no address and carries no socket text.
        Assert.DoesNotContain("127.0.0.1", error.Message);
        Assert.DoesNotContain("localhost", error.Message);
        return error;
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
