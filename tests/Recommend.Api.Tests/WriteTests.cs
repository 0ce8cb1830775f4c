using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Recommend.Contracts.V1;

using static Recommend.Api.Tests.RunningHost;

namespace Recommend.Api.Tests;

/// <summary>Writes through the API, each test on its own empty host so they cannot disturb each other.</summary>
public sealed class WriteTests : IAsyncLifetime
{
    private RunningHost host = null!;

    public async Task InitializeAsync() => host = await RunningHost.StartAsync(seedSample: false);

    public async Task DisposeAsync() => await host.DisposeAsync();

    private async Task UpsertAsync(params Product[] products) => Assert.Equal(products.Length, await host.UpsertProductsAsync(products));

    private static Event Purchase(string eventId, string user, string product, string order, DateTimeOffset at) => new()
    {
        EventId = eventId, Type = EventType.Purchase, UserId = user, ProductId = product, Quantity = 1, Price = 2,
        OrderId = order, OccurredAt = Timestamp.FromDateTimeOffset(at),
    };

    [Fact]
    public async Task An_empty_host_starts_without_the_sample_and_accepts_a_catalog()
    {
        var status = await host.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest());
        Assert.Equal(0, status.CatalogProducts);
        Assert.Empty((await host.Recommendations.TrendingAsync(new TrendingRequest())).Items);

        await UpsertAsync(Product("m1", "RED SPOTTY MUG"), Product("m2", "BLUE SPOTTY MUG"), Product("t1", "TEAPOT"));
        var product = await host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "m1" });
        Assert.Equal("RED SPOTTY MUG", product.Title);

        var similar = await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" });
        Assert.Equal("m2", similar.Items[0].ProductId);
    }

    [Fact]
    public async Task The_same_event_id_is_stored_once_and_a_purchase_shows_in_the_next_call()
    {
        await UpsertAsync(Product("m1", "RED SPOTTY MUG"), Product("s1", "RED SPOTTY SAUCER"), Product("p1", "PAPER NAPKINS"));
        var at = new DateTimeOffset(2011, 5, 1, 12, 0, 0, TimeSpan.Zero); // imported history: years before the wall clock
        var batch = new RecordEventsRequest { Events = { Purchase("a1", "fan", "m1", "o1", at), Purchase("a2", "fan", "s1", "o1", at) } };

        var first = await host.Events.RecordEventsAsync(batch);
        var replay = await host.Events.RecordEventsAsync(batch);
        Assert.Equal((2, 0), (first.Accepted, first.Duplicates));
        Assert.Equal((0, 2), (replay.Accepted, replay.Duplicates));

        var before = await host.Recommendations.RecommendAsync(new RecommendRequest { UserId = "shopper" });
        Assert.DoesNotContain(before.Items, i => i.Reasons.Any(r => r.Kind == "bought_together"));

        await host.Events.RecordEventsAsync(new RecordEventsRequest { Events = { Purchase("b1", "shopper", "m1", "o2", at.AddDays(1)) } });
        var after = await host.Recommendations.RecommendAsync(new RecommendRequest { UserId = "shopper" });

        Assert.DoesNotContain(after.Items, i => i.ProductId == "m1");
        Assert.Equal("s1", after.Items[0].ProductId);
        Assert.Contains(after.Items[0].Reasons, r => r.Kind == "bought_together" && r.RelatedProductId == "m1");
    }

    [Fact]
    public async Task Invalid_events_reject_the_whole_batch_and_store_nothing()
    {
        await UpsertAsync(Product("m1", "MUG"));
        var good = Purchase("g1", "u", "m1", "o", DateTimeOffset.UtcNow);
        var bad = Purchase("g2", "u", "m1", "o", DateTimeOffset.UtcNow);
        bad.Type = EventType.Unspecified;

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            host.Events.RecordEventsAsync(new RecordEventsRequest { Events = { good, bad } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("events[1].type", error.Status.Detail);

        var retry = await host.Events.RecordEventsAsync(new RecordEventsRequest { Events = { good } });
        Assert.Equal(1, retry.Accepted); // nothing of the rejected batch was stored
    }

    [Fact]
    public async Task An_import_stream_commits_the_batches_before_an_invalid_one_and_nothing_after_it()
    {
        await UpsertAsync(Product("m1", "MUG"));
        var at = new DateTimeOffset(2011, 5, 1, 12, 0, 0, TimeSpan.Zero);
        var bad = Purchase("i2", "u", "m1", "o2", at);
        bad.Type = EventType.Unspecified;

        using var call = host.Events.ImportEvents();
        await call.RequestStream.WriteAsync(new RecordEventsRequest { Events = { Purchase("i1", "u", "m1", "o1", at) } });
        await call.RequestStream.WriteAsync(new RecordEventsRequest { Events = { bad } });
        await call.RequestStream.WriteAsync(new RecordEventsRequest { Events = { Purchase("i3", "u", "m1", "o3", at) } });
        var acks = new List<ImportEventsAck>();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var ack in call.ResponseStream.ReadAllAsync()) acks.Add(ack);
        });

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("batch[1].events[0].type", error.Status.Detail);
        var acknowledged = Assert.Single(acks);
        Assert.Equal((0L, 1L), (acknowledged.Batch, acknowledged.Accepted));
        // Batch 0 is stored, batch 2 was never: replaying both stores only the second.
        var replay = await host.Events.RecordEventsAsync(new RecordEventsRequest { Events = { Purchase("i1", "u", "m1", "o1", at), Purchase("i3", "u", "m1", "o3", at) } });
        Assert.Equal((1, 1), (replay.Accepted, replay.Duplicates));
    }

    [Theory]
    [InlineData(0, -1)]
    [InlineData(0, 1_000_000_000)]
    [InlineData(-70_000_000_000, 0)]
    [InlineData(260_000_000_000, 0)]
    public async Task Malformed_timestamps_are_invalid_arguments_not_internal_errors(long seconds, int nanos)
    {
        var odd = Purchase("t1", "u", "m1", "o", DateTimeOffset.UtcNow);
        odd.OccurredAt = new Timestamp { Seconds = seconds, Nanos = nanos };

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            host.Events.RecordEventsAsync(new RecordEventsRequest { Events = { odd } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("events[0].occurred_at", error.Status.Detail);
    }

    [Fact]
    public async Task Deleted_products_disappear_from_answers_and_lookups()
    {
        await UpsertAsync(Product("m1", "RED SPOTTY MUG"), Product("m2", "RED SPOTTY MUG LARGE"), Product("m3", "BLUE SPOTTY MUG"));

        var deleted = await host.Catalog.DeleteProductsAsync(new DeleteProductsRequest { ProductIds = { "m2", "never-existed" } });
        Assert.Equal(1, deleted.Deleted);

        var similar = await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" });
        Assert.DoesNotContain(similar.Items, i => i.ProductId == "m2");
        var lookup = await Assert.ThrowsAsync<RpcException>(() => host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "m2" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task Invalid_products_are_rejected_with_the_field_named()
    {
        using var call = host.Catalog.UpsertProducts();
        await call.RequestStream.WriteAsync(new UpsertProductsRequest { Products = { Product("ok", "FINE"), Product("bad", "PRICEY", price: -1) } });
        await call.RequestStream.CompleteAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("products[1].price", error.Status.Detail);
        var missing = await Assert.ThrowsAsync<RpcException>(() => host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "ok" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Data_survives_a_restart_without_reseeding()
    {
        await UpsertAsync(Product("m1", "RED SPOTTY MUG"), Product("m2", "BLUE SPOTTY MUG"));
        await host.Events.RecordEventsAsync(new RecordEventsRequest { Events = { Purchase("r1", "u", "m1", "o", DateTimeOffset.UtcNow) } });
        var directory = host.DataDirectory;
        await host.StopAsync();

        // SeedSample=true on restart: a non-empty store must not be reseeded.
        host = await RunningHost.StartAsync(seedSample: true, dataDirectory: directory);

        var status = await host.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest());
        Assert.Equal(2, status.CatalogProducts);
        Assert.Equal(2, status.IndexedProducts);
        var replay = await host.Events.RecordEventsAsync(new RecordEventsRequest { Events = { Purchase("r1", "u", "m1", "o", DateTimeOffset.UtcNow) } });
        Assert.Equal(1, replay.Duplicates);
        Assert.Equal("m2", (await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" })).Items[0].ProductId);
    }
}
