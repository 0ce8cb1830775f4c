using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Recommend.Core.Vectors;

namespace Recommend.EmbeddedIndex;

public static class EmbeddedIndexServiceCollectionExtensions
{
    /// <summary>The in-process vector index kept in <paramref name="directory"/> (opened, and locked, when first resolved).</summary>
    public static IServiceCollection AddEmbeddedIndex(this IServiceCollection services, string directory, EmbeddedIndexOptions? options = null)
    {
        services.AddSingleton(sp => EmbeddedVectorIndex.Open(directory, options, sp.GetService<ILoggerFactory>()?.CreateLogger<EmbeddedVectorIndex>()));
        services.AddSingleton<IVectorIndex>(sp => sp.GetRequiredService<EmbeddedVectorIndex>());
        return services;
    }
}
