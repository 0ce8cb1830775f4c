using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Npgsql;
using Recommend.Contracts.V1;
using Recommend.Testing.Postgres;

using static Recommend.Api.Tests.RunningHost;

namespace Recommend.Api.Tests;

/// <summary>The host on the production store: real PostgreSQL 15 behind a proxy that can make it unreachable.</summary>
public sealed class PostgresBackendTests(PostgresCluster cluster) : IClassFixture<PostgresCluster>
{
    private static readonly HealthCheckResponse.Types.ServingStatus Serving = HealthCheckResponse.Types.ServingStatus.Serving;

    private async Task<(FaultyTcpProxy Proxy, string ConnectionString)> ProxiedDatabaseAsync(bool startCut)
    {
        var builder = new NpgsqlConnectionStringBuilder(await cluster.CreateDatabaseAsync());
        var proxy = new FaultyTcpProxy(new IPEndPoint(IPAddress.Loopback, builder.Port), startCut);
        builder.Host = "127.0.0.1";
        builder.Port = proxy.Port;
        builder.Timeout = 2;
        return (proxy, builder.ConnectionString);
    }

    private static Task<RunningHost> StartHostAsync(string connectionString, bool waitUntilServing) =>
        RunningHost.StartAsync(seedSample: false, dataDirectory: null, waitUntilServing,
            "--Recommend:Store:Provider=postgres", $"--ConnectionStrings:Postgres={connectionString}");

    /// <summary>One call of each RPC that reads or writes the store, for the outage tests; each takes its deadline.</summary>
    private static (string Method, Func<DateTime, Task> Call)[] CallsNeedingTheStore(RunningHost host) =>
    [
        ("RecordEvents", deadline => host.Events.RecordEventsAsync(new RecordEventsRequest
        {
            Events = { new Event { EventId = "o1", Type = EventType.Purchase, UserId = "u", ProductId = "m1", OrderId = "o", Quantity = 1 } },
        }, deadline: deadline).ResponseAsync),
        ("Trending", deadline => host.Recommendations.TrendingAsync(new TrendingRequest(), deadline: deadline).ResponseAsync),
        ("GetProduct", deadline => host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "m1" }, deadline: deadline).ResponseAsync),
        ("UpsertProducts", async deadline =>
        {
            using var call = host.Catalog.UpsertProducts(deadline: deadline);
            await call.RequestStream.WriteAsync(new UpsertProductsRequest { Products = { Product("m9", "BLUE MUG") } });
            await call.RequestStream.CompleteAsync();
            await call;
        }),
        ("DeleteProducts", deadline => host.Catalog.DeleteProductsAsync(new DeleteProductsRequest { ProductIds = { "m2" } }, deadline: deadline).ResponseAsync),
        ("GetServiceStatus", deadline => host.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest(), deadline: deadline).ResponseAsync),
        ("StartReindex", deadline => host.Catalog.StartReindexAsync(new StartReindexRequest { Mode = ReindexMode.Incremental }, deadline: deadline).ResponseAsync),
    ];

    [Fact]
    public async Task Starts_not_ready_while_postgres_is_unreachable_and_serves_once_it_connects()
    {
        var (proxy, connectionString) = await ProxiedDatabaseAsync(startCut: true);
        await using var _ = proxy;
        await using var host = await StartHostAsync(connectionString, waitUntilServing: false);

        Assert.NotEqual(Serving, await host.HealthAsync());
        Assert.Equal(Serving, await host.HealthAsync("liveness"));
        var early = await Assert.ThrowsAsync<RpcException>(() => host.Recommendations.TrendingAsync(new TrendingRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, early.StatusCode);

        proxy.Restore();
        await host.WaitUntilServingAsync(TimeSpan.FromSeconds(60));
        await host.UpsertProductsAsync(Product("m1", "RED SPOTTY MUG"));
        Assert.Equal("RED SPOTTY MUG", (await host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "m1" })).Title);
    }

    [Fact]
    public async Task Purchases_recorded_in_postgres_drive_the_next_recommendation()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        await using var host = await StartHostAsync(connectionString, waitUntilServing: true);
        await host.UpsertProductsAsync(Product("m1", "RED SPOTTY MUG"), Product("s1", "RED SPOTTY SAUCER"), Product("n1", "PAPER NAPKINS"));
        var at = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-5));
        await host.Events.RecordEventsAsync(new RecordEventsRequest
        {
            Events =
            {
                new Event { EventId = "x1", Type = EventType.Purchase, UserId = "fan", ProductId = "m1", OrderId = "o1", Quantity = 1, OccurredAt = at },
                new Event { EventId = "x2", Type = EventType.Purchase, UserId = "fan", ProductId = "s1", OrderId = "o1", Quantity = 1, OccurredAt = at },
            },
        });
        await host.Events.RecordEventsAsync(new RecordEventsRequest
        {
            Events = { new Event { EventId = "y1", Type = EventType.Purchase, UserId = "shopper", ProductId = "m1", OrderId = "o2", Quantity = 1 } },
        });

        // Co-purchase counts may be maintained by a background step: they must land well within a second.
        RecommendationResponse after;
        var deadline = DateTime.UtcNow.AddSeconds(1);
        do after = await host.Recommendations.RecommendAsync(new RecommendRequest { UserId = "shopper" });
        while (!after.Items.Any(i => i.Reasons.Any(r => r.Kind == "bought_together")) && DateTime.UtcNow < deadline);

        Assert.DoesNotContain(after.Items, i => i.ProductId == "m1");
        Assert.Contains(after.Items[0].Reasons, r => r.Kind == "bought_together" && r.RelatedProductId == "m1");
        Assert.Equal("s1", after.Items[0].ProductId);
    }

    [Fact]
    public async Task A_postgres_outage_leaves_similar_products_answering_from_vectors()
    {
        var (proxy, connectionString) = await ProxiedDatabaseAsync(startCut: false);
        await using var _ = proxy;
        await using var host = await StartHostAsync(connectionString, waitUntilServing: true);
        await host.UpsertProductsAsync(Product("m1", "RED SPOTTY MUG"), Product("m2", "RED SPOTTY MUG LARGE"), Product("t1", "GLASS TEAPOT"));

        proxy.Cut();
        var similar = await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" },
            deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.True(similar.Degraded);
        Assert.Equal("m2", similar.Items[0].ProductId);
        // Nothing invented: without the catalog the item says its details are unknown instead of "price 0, no title".
        Assert.All(similar.Items, item => Assert.True(item.DetailsUnknown && item.Title == "" && item.Price == 0 && !item.InStock));
        var cheap = await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1", Filter = new ProductFilter { MaxPrice = 1 } },
            deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Empty(cheap.Items); // the filter is applied to the index's real prices (5), not to an invented 0
        Assert.NotEqual(Serving, await host.HealthAsync());
        Assert.Equal(Serving, await host.HealthAsync("liveness"));

        proxy.Restore();
        await host.WaitUntilServingAsync(TimeSpan.FromSeconds(30));
        var healed = await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" });
        Assert.False(healed.Degraded);
        Assert.False(healed.Items[0].DetailsUnknown);
        Assert.Equal("RED SPOTTY MUG LARGE", healed.Items[0].Title);
    }

    [Fact]
    public async Task During_a_postgres_outage_calls_that_cannot_degrade_answer_unavailable_naming_no_address()
    {
        var (proxy, connectionString) = await ProxiedDatabaseAsync(startCut: false);
        await using var _ = proxy;
        await using var host = await StartHostAsync(connectionString, waitUntilServing: true);
        await host.UpsertProductsAsync(Product("m1", "RED SPOTTY MUG"));

        proxy.Cut();
        var calls = CallsNeedingTheStore(host);
        foreach (var (method, call) in calls)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => call(DateTime.UtcNow.AddSeconds(10)));
            Assert.True(error.StatusCode == StatusCode.Unavailable, $"{method}: {error.StatusCode} {error.Status.Detail}");
            Assert.DoesNotContain("127.0.0.1", error.Status.Detail);
            Assert.DoesNotContain(proxy.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Status.Detail);
        }

        proxy.Restore();
        await host.WaitUntilServingAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("RED SPOTTY MUG", (await host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "m1" })).Title);
    }

    [Fact]
    public async Task With_postgres_frozen_every_call_ends_within_its_deadline_readiness_drops_and_service_resumes_after()
    {
        var (proxy, connectionString) = await ProxiedDatabaseAsync(startCut: false);
        await using var _ = proxy;
        await using var host = await StartHostAsync(connectionString, waitUntilServing: true);
        await host.UpsertProductsAsync(Product("m1", "RED SPOTTY MUG"), Product("m2", "RED SPOTTY MUG LARGE"));

        proxy.Freeze();
        var calls = CallsNeedingTheStore(host).Append(("SimilarProducts", deadline =>
            host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" }, deadline: deadline).ResponseAsync));
        var failures = new List<string>();
        foreach (var (method, call) in calls)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                await call(DateTime.UtcNow.AddSeconds(2));
                // A degraded answer inside the deadline is right too (similar products from vectors alone).
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Unavailable) { }
            catch (RpcException ex) { failures.Add($"{method}: {ex.StatusCode} {ex.Status.Detail}"); }
            if (clock.Elapsed > TimeSpan.FromSeconds(3)) failures.Add($"{method}: took {clock.Elapsed.TotalSeconds:0.0} s against a 2 s deadline");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        var readiness = System.Diagnostics.Stopwatch.StartNew();
        Assert.NotEqual(Serving, await host.HealthAsync());
        Assert.True(readiness.Elapsed < TimeSpan.FromSeconds(5), $"readiness took {readiness.Elapsed}");

        proxy.Thaw();
        await host.WaitUntilServingAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("RED SPOTTY MUG", (await host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "m1" })).Title);
    }
}
