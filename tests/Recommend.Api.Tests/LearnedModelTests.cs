using Recommend.Contracts.V1;

namespace Recommend.Api.Tests;

/// <summary>
/// The host trains the learned model in the background once purchases arrive, and storefronts see it, and buy-again, in
/// the reasons.
/// </summary>
public sealed class LearnedModelTests
{
    [Fact]
    public async Task The_host_trains_a_model_from_recorded_purchases_and_serves_it_with_customers_also_bought_reasons()
    {
        await using var host = await RunningHost.StartAsync(seedSample: false, dataDirectory: null,
            "--Recommend:Training:InHost=true", "--Recommend:Training:CheckInterval=00:00:00.200", "--Recommend:Training:MinNewPurchases=1");
        await host.UpsertProductsAsync(
            RunningHost.Product("jumbo", "JUMBO BAG RED RETROSPOT"), RunningHost.Product("lunch", "LUNCH BAG RED RETROSPOT"),
            RunningHost.Product("mug", "BLUE STRIPY MUG"), RunningHost.Product("teapot", "BLUE STRIPY TEAPOT"));
        var events = new RecordEventsRequest();
        var at = new DateTimeOffset(2026, 11, 2, 10, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 8; i++)
        {
            // Customers who buy a jumbo bag come back for a lunch bag; others buy mugs with teapots.
            events.Events.Add(Purchase($"b{i}-1", $"bagger{i}", "jumbo", $"o-b{i}-1", at.AddDays(i)));
            events.Events.Add(Purchase($"b{i}-2", $"bagger{i}", "lunch", $"o-b{i}-2", at.AddDays(i + 1)));
            events.Events.Add(Purchase($"m{i}-1", $"mugger{i}", "mug", $"o-m{i}", at.AddDays(i)));
            events.Events.Add(Purchase($"m{i}-2", $"mugger{i}", "teapot", $"o-m{i}", at.AddDays(i)));
        }
        events.Events.Add(Purchase("new-1", "new-customer", "jumbo", "o-new", at.AddDays(20)));
        await host.Events.RecordEventsAsync(events);

        RecommendedItem? learned = null;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (learned is null && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            var answer = await host.Recommendations.RecommendAsync(new RecommendRequest { UserId = "new-customer", Limit = 3 });
            learned = answer.Items.FirstOrDefault(i => i.Reasons.Any(r => r.Kind == "customers_also_bought"));
            if (learned is null) await Task.Delay(200);
        }

        Assert.NotNull(learned);
        Assert.Equal("lunch", learned.ProductId);
        var reason = learned.Reasons.First(r => r.Kind == "customers_also_bought");
        Assert.Equal("jumbo", reason.RelatedProductId);
        Assert.Equal("Customers who bought JUMBO BAG RED RETROSPOT also bought this", reason.Text);

        // Buy-again brings back what the customer bought, saying so.
        var again = await host.Recommendations.RecommendAsync(new RecommendRequest { UserId = "new-customer", Limit = 3, IncludePurchased = true });
        var repeat = Assert.Single(again.Items, i => i.ProductId == "jumbo");
        Assert.Contains(repeat.Reasons, r => r.Kind == "buy_again" && r.RelatedProductId == "jumbo" && r.Text == "You bought this before");
    }

    private static Event Purchase(string id, string user, string product, string order, DateTimeOffset at) => new()
    {
        EventId = id, Type = EventType.Purchase, UserId = user, ProductId = product, OrderId = order, Quantity = 1, Price = 2,
        OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at),
    };
}
