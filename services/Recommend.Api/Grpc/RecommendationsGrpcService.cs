using Grpc.Core;
using Recommend.Core.Experiments;
using Recommend.Core.Ranking;
using Proto = Recommend.Contracts.V1;
using static Recommend.Api.Grpc.RequestValidation;

namespace Recommend.Api.Grpc;

/// <summary>
/// recommend.v1.Recommendations: validates, ranks through the experiment router (the placement's running experiment
/// chooses the profile, or the default profile ranks), maps the answer.
/// </summary>
internal sealed class RecommendationsGrpcService(RecommendationEngine engine, ExperimentRouter experiments, RankingProfile profile)
    : Proto.Recommendations.RecommendationsBase
{
    public override async Task<Proto.RecommendationResponse> Recommend(Proto.RecommendRequest request, ServerCallContext context)
    {
        var options = Options(request.Limit, request.Filter, request.UserId, request.IncludePurchased, request.Placement);
        var contextIds = Ids(request.ContextProductIds, "context_product_ids", required: false);
        return (await experiments.RankAsync(options, profile, p => engine.RecommendAsync(contextIds, options, p, context.CancellationToken), context.CancellationToken)).ToProto();
    }

    public override async Task<Proto.RecommendationResponse> SimilarProducts(Proto.SimilarProductsRequest request, ServerCallContext context)
    {
        var productId = Id(request.ProductId, "product_id");
        var options = Options(request.Limit, request.Filter, request.UserId, request.IncludePurchased, request.Placement);
        return (await experiments.RankAsync(options, profile, p => engine.SimilarProductsAsync(productId, options, p, context.CancellationToken), context.CancellationToken)).ToProto();
    }

    public override async Task<Proto.RecommendationResponse> FrequentlyBoughtTogether(Proto.FrequentlyBoughtTogetherRequest request, ServerCallContext context)
    {
        var productIds = Ids(request.ProductIds, "product_ids", required: true);
        var options = Options(request.Limit, request.Filter, request.UserId, request.IncludePurchased, request.Placement);
        return (await experiments.RankAsync(options, profile, p => engine.FrequentlyBoughtTogetherAsync(productIds, options, p, context.CancellationToken), context.CancellationToken)).ToProto();
    }

    public override async Task<Proto.RecommendationResponse> Trending(Proto.TrendingRequest request, ServerCallContext context)
    {
        var category = Name(request.Category, "category");
        var options = Options(request.Limit, request.Filter, request.UserId, request.IncludePurchased, request.Placement);
        return (await experiments.RankAsync(options, profile, p => engine.TrendingAsync(category, options, p, context.CancellationToken), context.CancellationToken)).ToProto();
    }

    public override async Task<Proto.RecommendationResponse> SearchProducts(Proto.SearchProductsRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Query)) throw Invalid("query", "must not be empty");
        var query = Text(request.Query, "query", MaxQueryLength);
        // Search shows what was bought before too: people search for things they reorder.
        var options = Options(request.Limit, request.Filter, request.UserId, includePurchased: true, request.Placement);
        return (await experiments.RankAsync(options, profile, p => engine.SearchAsync(query, options, p, context.CancellationToken), context.CancellationToken)).ToProto();
    }
}
