using Microsoft.Extensions.DependencyInjection;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Experiments;
using Recommend.Core.History;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;

namespace Recommend.Sqlite;

public static class SqliteServiceCollectionExtensions
{
    /// <summary>
    /// One <see cref="SqliteStore"/> over <paramref name="databasePath"/> (created and migrated when first resolved) behind
    /// every store port: catalog, history, embedding cache, content hashes, re-index jobs, experiments and readiness.
    /// </summary>
    public static IServiceCollection AddSqliteStore(this IServiceCollection services, string databasePath)
    {
        services.AddSingleton(_ =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
            return SqliteStore.Open(databasePath);
        });
        services.AddSingleton<ICatalogStore>(sp => sp.GetRequiredService<SqliteStore>());
        services.AddSingleton<IHistoryStore>(sp => sp.GetRequiredService<SqliteStore>());
        services.AddSingleton<IEmbeddingCache>(sp => sp.GetRequiredService<SqliteStore>());
        services.AddSingleton<IContentHashLedger>(sp => sp.GetRequiredService<SqliteStore>());
        services.AddSingleton<IReindexJobStore>(sp => sp.GetRequiredService<SqliteStore>());
        services.AddSingleton<IExperimentStore>(sp => sp.GetRequiredService<SqliteStore>());
        services.AddSingleton<IStoreReadiness>(sp => sp.GetRequiredService<SqliteStore>());
        return services;
    }
}
