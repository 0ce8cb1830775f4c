using Microsoft.Extensions.DependencyInjection;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Experiments;
using Recommend.Core.History;
using Recommend.Core.Learning;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;

namespace Recommend.Sql;

public static class StorePorts
{
    /// <summary>The registered <typeparamref name="TStore"/> singleton behind every port a full store serves.</summary>
    public static IServiceCollection AddStorePorts<TStore>(this IServiceCollection services)
        where TStore : class, ICatalogStore, IHistoryStore, IEmbeddingCache, IContentHashLedger, IReindexJobStore, IExperimentStore, IItemModelStore, IStoreReadiness
    {
        services.AddSingleton<ICatalogStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IHistoryStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IEmbeddingCache>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IContentHashLedger>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IReindexJobStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IExperimentStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IItemModelStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IStoreReadiness>(sp => sp.GetRequiredService<TStore>());
        return services;
    }
}
