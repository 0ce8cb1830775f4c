using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Recommend.Contracts.V1;

namespace Recommend.Api.Tests;

[Collection(SeededHostCollection.Name)]
public sealed class StorefrontTests(SeededHostFixture fixture)
{
    private const string HeartHolder = "85123A"; // WHITE HANGING HEART T-LIGHT HOLDER, the sample's best seller
    private const string FrequentBuyer = "14646";
    private RunningHost Host => fixture.Host;

    [Fact]
    public async Task Similar_products_answer_with_catalog_fields_and_a_reason_each()
    {
        var response = await Host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = HeartHolder, Limit = 5 });

        Assert.Equal(5, response.Items.Count);
        Assert.False(string.IsNullOrEmpty(response.RecommendationId));
        Assert.All(response.Items, item =>
        {
            Assert.NotEqual(HeartHolder, item.ProductId);
            Assert.False(string.IsNullOrEmpty(item.Title));
            Assert.False(string.IsNullOrEmpty(item.Category));
            Assert.True(item.Price > 0);
            var reason = Assert.Single(item.Reasons);
            Assert.Equal("similar", reason.Kind);
            Assert.Equal(HeartHolder, reason.RelatedProductId);
        });
        Assert.Contains(response.Items, i => i.Title.Contains("HEART", StringComparison.Ordinal) || i.Title.Contains("T-LIGHT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_known_customer_gets_personalised_items_and_not_what_they_bought()
    {
        var response = await Host.Recommendations.RecommendAsync(new RecommendRequest { UserId = FrequentBuyer });

        Assert.Equal(10, response.Items.Count); // limit 0 means the default
        Assert.Contains(response.Items, i => i.Reasons.Any(r => r.Kind is "history" or "bought_together"));
        var recordedTogether = await Host.Recommendations.RecommendAsync(new RecommendRequest { UserId = FrequentBuyer, IncludePurchased = true, Limit = 100 });
        Assert.NotEqual(response.Items.Select(i => i.ProductId), recordedTogether.Items.Take(10).Select(i => i.ProductId));
    }

    [Fact]
    public async Task Recommendation_ids_are_unique_per_answer()
    {
        var first = await Host.Recommendations.TrendingAsync(new TrendingRequest());
        var second = await Host.Recommendations.TrendingAsync(new TrendingRequest());

        Assert.NotEqual(first.RecommendationId, second.RecommendationId);
        Assert.Equal(first.Items.Select(i => i.ProductId), second.Items.Select(i => i.ProductId));
    }

    [Fact]
    public async Task Frequently_bought_together_uses_the_order_history()
    {
        var response = await Host.Recommendations.FrequentlyBoughtTogetherAsync(new FrequentlyBoughtTogetherRequest { ProductIds = { HeartHolder }, Limit = 5 });

        Assert.Equal(5, response.Items.Count);
        Assert.All(response.Items, i => Assert.Equal("bought_together", i.Reasons[0].Kind));
    }

    [Fact]
    public async Task Trending_within_a_category_and_filters_hold()
    {
        var response = await Host.Recommendations.TrendingAsync(new TrendingRequest
        {
            Category = "Kitchen & Dining",
            Limit = 20,
            Filter = new ProductFilter { MaxPrice = 3, InStockOnly = true },
        });

        Assert.NotEmpty(response.Items);
        Assert.All(response.Items, i =>
        {
            Assert.Equal("Kitchen & Dining", i.Category);
            Assert.True(i.Price <= 3);
            Assert.True(i.InStock);
            Assert.Equal("trending", i.Reasons[0].Kind);
        });
    }

    [Fact]
    public async Task Search_finds_products_by_meaning_of_the_words()
    {
        var response = await Host.Recommendations.SearchProductsAsync(new SearchProductsRequest { Query = "white hanging heart t-light holder", Limit = 5 });

        Assert.Contains(response.Items, i => i.ProductId == HeartHolder);
        Assert.All(response.Items, i => Assert.Equal("search", i.Reasons[0].Kind));
    }

    [Fact]
    public async Task Health_is_serving_and_reflection_lists_the_services()
    {
        var health = new Health.HealthClient(Host.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);

        using var reflection = new ServerReflection.ServerReflectionClient(Host.Channel).ServerReflectionInfo();
        await reflection.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await reflection.RequestStream.CompleteAsync();
        Assert.True(await reflection.ResponseStream.MoveNext(CancellationToken.None));
        var services = reflection.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Superset(new HashSet<string> { "recommend.v1.Recommendations", "recommend.v1.Events", "recommend.v1.Catalog", "grpc.health.v1.Health" },
            services.ToHashSet());

        var status = await Host.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest());
        Assert.Equal("hashing-fallback", status.Embedder);
        Assert.Equal("embedded", status.VectorIndex);
        Assert.Equal(status.CatalogProducts, status.IndexedProducts);
        Assert.True(status.CatalogProducts > 3_000);
    }

    [Theory]
    [InlineData(101, "limit")]
    [InlineData(-1, "limit")]
    public async Task Out_of_range_limits_are_invalid_arguments(int limit, string field)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Host.Recommendations.TrendingAsync(new TrendingRequest { Limit = limit }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(field, error.Status.Detail);
    }

    [Fact]
    public async Task Bad_ids_and_prices_are_invalid_arguments_naming_the_field()
    {
        async Task<RpcException> Fails(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

        var empty = await Fails(() => Host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Contains("product_id", empty.Status.Detail);

        var tooLong = await Fails(() => Host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = new string('x', 129) }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);

        var many = new FrequentlyBoughtTogetherRequest();
        many.ProductIds.AddRange(Enumerable.Range(0, 501).Select(i => $"p{i}"));
        var tooMany = await Fails(() => Host.Recommendations.FrequentlyBoughtTogetherAsync(many).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooMany.StatusCode);
        Assert.Contains("product_ids", tooMany.Status.Detail);

        var prices = await Fails(() => Host.Recommendations.RecommendAsync(new RecommendRequest
        {
            UserId = "u", Filter = new ProductFilter { MinPrice = 10, MaxPrice = 5 },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, prices.StatusCode);
        Assert.Contains("min_price", prices.Status.Detail);

        var query = await Fails(() => Host.Recommendations.SearchProductsAsync(new SearchProductsRequest { Query = " " }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, query.StatusCode);
    }

    [Fact]
    public async Task Unknown_products_are_not_found()
    {
        var similar = await Assert.ThrowsAsync<RpcException>(() =>
            Host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "NO-SUCH-PRODUCT" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, similar.StatusCode);
        Assert.Contains("NO-SUCH-PRODUCT", similar.Status.Detail);

        var product = await Assert.ThrowsAsync<RpcException>(() =>
            Host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "NO-SUCH-PRODUCT" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, product.StatusCode);
    }

    [Fact]
    public async Task An_unknown_user_is_a_cold_start_not_an_error()
    {
        var response = await Host.Recommendations.RecommendAsync(new RecommendRequest { UserId = "never-seen-before", Limit = 5 });

        Assert.Equal(5, response.Items.Count);
        Assert.All(response.Items, i => Assert.Equal("trending", i.Reasons[0].Kind));
    }
}
