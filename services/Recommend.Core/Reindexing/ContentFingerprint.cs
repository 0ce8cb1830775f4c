using System.Globalization;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;

namespace Recommend.Core.Reindexing;

/// <summary>What the index holds for a product: its embedding text and the payload it filters on.</summary>
public static class ContentFingerprint
{
    public static ContentHash Of(Product product) => new(product.Id, TextHash.Of(string.Join('\u001f',
        product.EmbeddingText, product.Category, product.Price.ToString("R", CultureInfo.InvariantCulture), product.InStock ? "1" : "0")));
}
