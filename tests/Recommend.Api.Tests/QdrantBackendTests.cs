using System.Diagnostics;
using Grpc.Core;
using Recommend.Contracts.V1;
using Recommend.Testing.Qdrant;

namespace Recommend.Api.Tests;

/// <summary>The host on Qdrant (an in-process server speaking Qdrant's gRPC protocol), including Qdrant going away.</summary>
public sealed class QdrantBackendTests : IAsyncLifetime
{
    private FakeQdrantServer qdrant = null!;
    private RunningHost host = null!;

    public async Task InitializeAsync()
    {
        qdrant = await FakeQdrantServer.StartAsync();
        host = await RunningHost.StartAsync(seedSample: false, dataDirectory: null,
            "--Recommend:VectorIndex:Provider=qdrant", $"--Recommend:VectorIndex:Qdrant:Url={qdrant.Url}");

        await host.UpsertProductsAsync(
            RunningHost.Product("m1", "RED SPOTTY MUG", 2),
            RunningHost.Product("m2", "RED SPOTTY MUG LARGE", 3),
            RunningHost.Product("s1", "RED SPOTTY SAUCER", 1, "Saucers"));
        await host.Events.RecordEventsAsync(new RecordEventsRequest
        {
            Events =
            {
                new Event { EventId = "e1", Type = EventType.Purchase, UserId = "fan", ProductId = "m1", OrderId = "o1", Quantity = 1 },
                new Event { EventId = "e2", Type = EventType.Purchase, UserId = "fan", ProductId = "s1", OrderId = "o1", Quantity = 1 },
                new Event { EventId = "e3", Type = EventType.Purchase, UserId = "shopper", ProductId = "m1", OrderId = "o2", Quantity = 1 },
            },
        });
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await qdrant.DisposeAsync();
    }

    [Fact]
    public async Task Vectors_are_served_from_qdrant_through_its_alias()
    {
        var similar = await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" });
        var status = await host.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest());

        Assert.Equal("m2", similar.Items[0].ProductId);
        Assert.False(similar.Degraded);
        Assert.Equal("qdrant", status.VectorIndex);
        Assert.Equal(3, status.IndexedProducts);
    }

    [Fact]
    public async Task Without_qdrant_similar_products_fail_fast_and_recommend_degrades_to_history_and_trending()
    {
        await qdrant.StopAsync();

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => host.Recommendations.SimilarProductsAsync(
            new SimilarProductsRequest { ProductId = "m1" }, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.DoesNotContain(qdrant.Url.Authority, error.Status.Detail);
        Assert.NotEqual(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, await host.HealthAsync());

        var recommended = await host.Recommendations.RecommendAsync(new RecommendRequest { UserId = "shopper" },
            deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.True(recommended.Degraded);
        Assert.Equal("s1", recommended.Items[0].ProductId);
        Assert.Contains(recommended.Items[0].Reasons, r => r.Kind == "bought_together");
    }

    [Fact]
    public async Task With_qdrant_frozen_vector_calls_end_within_their_deadline_and_readiness_drops_until_it_thaws()
    {
        var endpoint = qdrant.Url;
        await using var proxy = new FaultyTcpProxy(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, endpoint.Port));
        await using var proxied = await RunningHost.StartAsync(seedSample: false, dataDirectory: null,
            "--Recommend:VectorIndex:Provider=qdrant", $"--Recommend:VectorIndex:Qdrant:Url=http://127.0.0.1:{proxy.Port}");
        await proxied.UpsertProductsAsync(RunningHost.Product("m1", "RED SPOTTY MUG", 2), RunningHost.Product("m2", "RED SPOTTY MUG LARGE", 3));

        proxy.Freeze();
        foreach (var call in new Func<DateTime, Task>[]
        {
            deadline => proxied.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" }, deadline: deadline).ResponseAsync,
            deadline => proxied.Recommendations.SearchProductsAsync(new SearchProductsRequest { Query = "mug" }, deadline: deadline).ResponseAsync,
            deadline => proxied.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest(), deadline: deadline).ResponseAsync,
        })
        {
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<RpcException>(() => call(DateTime.UtcNow.AddSeconds(2)));
            Assert.True(error.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Unavailable, $"{error.StatusCode} {error.Status.Detail}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        }
        Assert.NotEqual(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, await proxied.HealthAsync());

        proxy.Thaw();
        await proxied.WaitUntilServingAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("m2", (await proxied.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" })).Items[0].ProductId);
    }
}
