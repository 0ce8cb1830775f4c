using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;

namespace Recommend.Core.Tests.Embeddings;

public class EmbedderProviderTests
{
    [Fact]
    public async Task The_fallback_makes_any_dimension_and_refuses_another_model()
    {
        var provider = IEmbedderProvider.Create(new HashingEmbedder(64));

        var wide = provider.For(new IndexSpec(HashingEmbedder.ModelId, 300));
        Assert.Equal(300, (await wide.EmbedQueryAsync("red mug", CancellationToken.None)).Length);
        Assert.Same(provider.Default, provider.For(provider.Default.Info.Spec));
        Assert.Throws<IndexSpecMismatchException>(() => provider.For(new IndexSpec("qwen3-embedding-0.6b", 64)));
    }

    [Fact]
    public async Task A_model_serves_smaller_dimensions_by_keeping_the_leading_values_and_normalising()
    {
        var model = new HashingEmbedder(64);
        var provider = new MatryoshkaEmbedderProvider(model, minDimension: 8);

        var full = await model.EmbedQueryAsync("blue teapot", CancellationToken.None);
        var small = await provider.For(model.Info.Spec with { Dimension = 16 }).EmbedQueryAsync("blue teapot", CancellationToken.None);

        var norm = Math.Sqrt(full.Take(16).Sum(v => (double)v * v));
        Assert.Equal(full.Take(16).Select(v => v / norm), small.Select(v => (double)v), new ToleranceComparer(1e-6));
        Assert.Throws<IndexSpecMismatchException>(() => provider.For(model.Info.Spec with { Dimension = 4 }));
        Assert.Throws<IndexSpecMismatchException>(() => provider.For(model.Info.Spec with { Dimension = 65 }));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double value) => 0;
    }
}
