using System.CommandLine;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Recommend.Contracts.V1;
using Spectre.Console;

namespace Recommend.Cli;

/// <summary>Commands a storefront developer uses to see what the service answers.</summary>
internal static class StorefrontCommands
{
    public static IEnumerable<Command> Create()
    {
        var server = ServerConnection.ServerOption();
        var limit = new Option<int>("--limit", "-n") { Description = "Items to return (1-100)", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print the raw response as JSON" };
        var user = new Option<string?>("--user", "-u") { Description = "User id" };
        var category = new Option<string[]>("--category") { Description = "Only these categories", AllowMultipleArgumentsPerToken = true };
        var buyAgain = new Option<bool>("--buy-again") { Description = "Allow products the user already bought" };

        ProductFilter Filter(ParseResult r)
        {
            var filter = new ProductFilter();
            filter.Categories.AddRange(r.GetValue(category) ?? []);
            return filter;
        }

        async Task<int> Show(ParseResult r, Func<Recommendations.RecommendationsClient, Task<RecommendationResponse>> call)
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var response = await call(new Recommendations.RecommendationsClient(channel));
            if (r.GetValue(json)) Console.WriteLine(JsonFormatter.Default.Format(response));
            else Render(response);
            return 0;
        }

        var productId = new Argument<string>("product-id") { Description = "Product id" };
        var similar = new Command("similar", "Products similar to one product") { productId, server, limit, json, user, category };
        similar.SetAction((r, ct) => Show(r, c => c.SimilarProductsAsync(new SimilarProductsRequest
        {
            ProductId = r.GetValue(productId), Limit = r.GetValue(limit), UserId = r.GetValue(user) ?? "", Filter = Filter(r),
        }, cancellationToken: ct).ResponseAsync));

        var contextIds = new Option<string[]>("--context", "-c") { Description = "Products on the page or in the cart", AllowMultipleArgumentsPerToken = true };
        var recommend = new Command("recommend", "Personalised recommendations for a user") { server, limit, json, user, contextIds, category, buyAgain };
        recommend.SetAction((r, ct) => Show(r, c =>
        {
            var request = new RecommendRequest { UserId = r.GetValue(user) ?? "", Limit = r.GetValue(limit), Filter = Filter(r), IncludePurchased = r.GetValue(buyAgain) };
            request.ContextProductIds.AddRange(r.GetValue(contextIds) ?? []);
            return c.RecommendAsync(request, cancellationToken: ct).ResponseAsync;
        }));

        var productIds = new Argument<string[]>("product-ids") { Description = "One or more product ids", Arity = ArgumentArity.OneOrMore };
        var together = new Command("bought-together", "Products frequently bought together with the given ones") { productIds, server, limit, json, user };
        together.SetAction((r, ct) => Show(r, c =>
        {
            var request = new FrequentlyBoughtTogetherRequest { Limit = r.GetValue(limit), UserId = r.GetValue(user) ?? "" };
            request.ProductIds.AddRange(r.GetValue(productIds)!);
            return c.FrequentlyBoughtTogetherAsync(request, cancellationToken: ct).ResponseAsync;
        }));

        var trendCategory = new Option<string?>("--in") { Description = "Category to trend within" };
        var trending = new Command("trending", "Popular products now") { server, limit, json, trendCategory };
        trending.SetAction((r, ct) => Show(r, c => c.TrendingAsync(new TrendingRequest
        {
            Category = r.GetValue(trendCategory) ?? "", Limit = r.GetValue(limit),
        }, cancellationToken: ct).ResponseAsync));

        var query = new Argument<string>("query") { Description = "Free-text query" };
        var search = new Command("search", "Semantic product search") { query, server, limit, json, category };
        search.SetAction((r, ct) => Show(r, c => c.SearchProductsAsync(new SearchProductsRequest
        {
            Query = r.GetValue(query), Limit = r.GetValue(limit), Filter = Filter(r),
        }, cancellationToken: ct).ResponseAsync));

        return [similar, recommend, together, trending, search, EventCommand(server)];
    }

    private static Command EventCommand(Option<string> server)
    {
        var type = new Option<string>("--type", "-t") { Description = "view | click | add_to_cart | purchase", Required = true };
        var user = new Option<string>("--user", "-u") { Description = "User id", Required = true };
        var product = new Option<string>("--product", "-p") { Description = "Product id", Required = true };
        var quantity = new Option<int>("--quantity", "-q") { DefaultValueFactory = _ => 1 };
        var price = new Option<double>("--price");
        var order = new Option<string?>("--order") { Description = "Order id (groups purchases into one basket)" };
        var eventId = new Option<string?>("--event-id") { Description = "Idempotency key (default: a new UUID)" };
        var recommendation = new Option<string?>("--recommendation") { Description = "recommendation_id this event is attributed to" };
        var command = new Command("event", "Record one event") { server, type, user, product, quantity, price, order, eventId, recommendation };
        command.SetAction(async (r, ct) =>
        {
            var eventType = r.GetValue(type) switch
            {
                "view" => EventType.View,
                "click" => EventType.Click,
                "add_to_cart" => EventType.AddToCart,
                "purchase" => EventType.Purchase,
                var other => throw new ArgumentException($"unknown event type '{other}'"),
            };
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var request = new RecordEventsRequest();
            request.Events.Add(new Event
            {
                EventId = r.GetValue(eventId) ?? Guid.NewGuid().ToString(),
                Type = eventType,
                UserId = r.GetValue(user),
                ProductId = r.GetValue(product),
                Quantity = r.GetValue(quantity),
                Price = r.GetValue(price),
                OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                OrderId = r.GetValue(order) ?? "",
                RecommendationId = r.GetValue(recommendation) ?? "",
            });
            var response = await new Events.EventsClient(channel).RecordEventsAsync(request, cancellationToken: ct);
            AnsiConsole.MarkupLineInterpolated($"accepted [green]{response.Accepted}[/], duplicates {response.Duplicates}");
            return 0;
        });
        return command;
    }

    private static void Render(RecommendationResponse response)
    {
        var table = new Table().AddColumns("#", "product", "title", "price", "category", "score", "why");
        var rank = 0;
        foreach (var item in response.Items)
        {
            table.AddRow(
                (++rank).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(item.ProductId),
                Markup.Escape(item.Title),
                item.Price.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(item.Category),
                item.Score.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(string.Join("; ", item.Reasons.Select(reason => reason.Text))));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"[grey]recommendation_id {response.RecommendationId} · profile {response.RankingProfile}{(response.Degraded ? " · degraded" : "")}[/]");
    }
}
