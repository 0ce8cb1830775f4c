using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Recommend.Core.Vectors;

namespace Recommend.Qdrant;

public static class QdrantServiceCollectionExtensions
{
    /// <summary>The vector index over a Qdrant cluster: one collection per index version, readers behind an alias.</summary>
    public static IServiceCollection AddQdrantIndex(this IServiceCollection services, QdrantIndexOptions options)
    {
        options.Validate();
        services.AddSingleton(sp => new QdrantVectorIndex(options, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IVectorIndex>(sp => sp.GetRequiredService<QdrantVectorIndex>());
        return services;
    }
}
