using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Recommend.Core.Vectors;
using Recommend.Indexing.Pipeline;
using Recommend.Indexing.Sharding;
using Recommend.Indexing.Sources;

namespace Recommend.Indexing;

public static class IndexingServiceCollectionExtensions
{
    /// <summary>
    /// The re-indexing engine over the ports registered beside it (store, vector index, embedders): one
    /// <see cref="Reindexer"/> shared by the in-host <see cref="ReindexService"/> and the offline
    /// <see cref="ShardedReindexWorker"/>, the source policy both enforce, and the <see cref="IActiveIndexBuild"/> that
    /// catalog writes consult.
    /// </summary>
    public static IServiceCollection AddReindexing(this IServiceCollection services, ReindexOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton<SourcePolicy>();
        services.AddSingleton<ReindexPlanner>();
        services.AddSingleton<Reindexer>();
        services.AddSingleton<ReindexService>();
        services.AddSingleton<ShardedReindexWorker>();
        services.AddSingleton<IActiveIndexBuild, ActiveIndexBuild>();
        return services;
    }
}
