using Grpc.Core;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Vectors;
using Recommend.Indexing;
using Proto = Recommend.Contracts.V1;
using static Recommend.Api.Grpc.RequestValidation;

namespace Recommend.Api.Grpc;

/// <summary>recommend.v1.Catalog: product writes go through the catalog service (store, embed, index); re-indexing in the other part.</summary>
internal sealed partial class CatalogGrpcService(
    CatalogService catalog, ICatalogStore products, IStoreReadiness store, IVectorIndex index, IEmbedderProvider embedders, ReindexService reindex)
    : Proto.Catalog.CatalogBase
{
    private const int MaxTitleLength = 1_000;
    private const int MaxDescriptionLength = 20_000;
    private const int MaxAttributes = 64;
    private const int MaxAttributeValueLength = 1_000;

    /// <summary>Each message of the stream is validated whole and committed before the next is read.</summary>
    public override async Task<Proto.UpsertProductsResponse> UpsertProducts(
        IAsyncStreamReader<Proto.UpsertProductsRequest> requestStream, ServerCallContext context)
    {
        var upserted = 0;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (request.Products.Count > MaxIdsPerRequest) throw Invalid("products", $"at most {MaxIdsPerRequest} products per message, got {request.Products.Count}");
            var products = request.Products.Select((p, i) => ToProduct(p, $"products[{i}]")).ToList();
            var duplicate = products.GroupBy(p => p.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw Invalid("products", $"product_id '{duplicate.Key}' appears more than once in one message");
            upserted += await catalog.UpsertAsync(products, context.CancellationToken);
        }
        return new Proto.UpsertProductsResponse { Upserted = upserted };
    }

    public override async Task<Proto.DeleteProductsResponse> DeleteProducts(Proto.DeleteProductsRequest request, ServerCallContext context)
    {
        var ids = Ids(request.ProductIds, "product_ids", required: true);
        return new Proto.DeleteProductsResponse { Deleted = await catalog.DeleteAsync(ids, context.CancellationToken) };
    }

    public override async Task<Proto.Product> GetProduct(Proto.GetProductRequest request, ServerCallContext context) =>
        (await catalog.GetAsync(Id(request.ProductId, "product_id"), context.CancellationToken)).ToProto();

    public override async Task<Proto.ServiceStatus> GetServiceStatus(Proto.GetServiceStatusRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var live = await index.GetLiveVersionAsync(ct);
        // What serves queries now: the live version's spec (a re-index may have changed the dimension), when it can be served.
        var info = live is null || live.Spec.ModelId != embedders.Default.Info.ModelId
            ? embedders.Default.Info
            : embedders.For(live.Spec).Info;
        return new Proto.ServiceStatus
        {
            Embedder = info.Name,
            ModelId = info.ModelId,
            Dimension = info.Dimension,
            VectorIndex = index.Backend,
            IndexVersion = live?.Name ?? "",
            IndexedProducts = live is null ? 0 : await index.CountAsync(live.Name, ct),
            Store = store.Name,
            CatalogProducts = await products.CountProductsAsync(ct),
        };
    }

    private static Product ToProduct(Proto.Product p, string field)
    {
        var id = Id(p.ProductId, $"{field}.product_id");
        var title = Text(p.Title, $"{field}.title", MaxTitleLength).Trim();
        if (title.Length == 0) throw Invalid($"{field}.title", "must not be empty");
        var description = Text(p.Description, $"{field}.description", MaxDescriptionLength);
        var category = Name(p.Category, $"{field}.category");
        if (p.Attributes.Count > MaxAttributes) throw Invalid($"{field}.attributes", $"at most {MaxAttributes} attributes, got {p.Attributes.Count}");
        foreach (var (key, value) in p.Attributes)
        {
            Id(key, $"{field}.attributes (key)");
            Text(value, $"{field}.attributes[{key}]", MaxAttributeValueLength);
        }
        return new Product(id, title, description, category, Price(p.Price, $"{field}.price"), p.InStock, new Dictionary<string, string>(p.Attributes));
    }
}
