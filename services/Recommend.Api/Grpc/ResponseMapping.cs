using Recommend.Core.Catalog;
using Recommend.Core.Experiments;
using Recommend.Core.Ranking;
using Proto = Recommend.Contracts.V1;

namespace Recommend.Api.Grpc;

internal static class ResponseMapping
{
    public static Proto.RecommendationResponse ToProto(this ExperimentAnswer answer)
    {
        var result = answer.Result;
        var response = new Proto.RecommendationResponse
        {
            RecommendationId = result.RecommendationId,
            Degraded = result.Degraded,
            RankingProfile = result.Profile,
            ExperimentId = answer.ExperimentId ?? "",
            Variant = answer.Variant ?? "",
        };
        for (var i = 0; i < result.Items.Count; i++)
        {
            var item = result.Items[i];
            var proto = new Proto.RecommendedItem
            {
                ProductId = item.Product.Id,
                Score = item.Score,
                Variant = answer.Teams?[i] ?? "",
                DetailsUnknown = !item.DetailsKnown,
            };
            if (item.DetailsKnown)
            {
                proto.Title = item.Product.Title;
                proto.Price = item.Product.Price;
                proto.Category = item.Product.Category;
                proto.InStock = item.Product.InStock;
            }
            proto.Reasons.AddRange(item.Reasons.Select(r => new Proto.Reason
            {
                Kind = KindName(r.Kind),
                RelatedProductId = r.RelatedProductId ?? "",
                Text = r.Text,
            }));
            response.Items.Add(proto);
        }
        return response;
    }

    public static string KindName(ReasonKind kind) => kind switch
    {
        ReasonKind.Similar => "similar",
        ReasonKind.BoughtTogether => "bought_together",
        ReasonKind.Trending => "trending",
        ReasonKind.History => "history",
        ReasonKind.Search => "search",
        ReasonKind.CustomersAlsoBought => "customers_also_bought",
        ReasonKind.BuyAgain => "buy_again",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static Proto.Product ToProto(this Product product)
    {
        var proto = new Proto.Product
        {
            ProductId = product.Id,
            Title = product.Title,
            Description = product.Description,
            Category = product.Category,
            Price = product.Price,
            InStock = product.InStock,
        };
        foreach (var (key, value) in product.Attributes) proto.Attributes[key] = value;
        return proto;
    }
}
