using Microsoft.Extensions.DependencyInjection;
using Recommend.Sql;

namespace Recommend.Sqlite;

public static class SqliteServiceCollectionExtensions
{
    /// <summary>
    /// One <see cref="SqliteStore"/> over <paramref name="databasePath"/> (created and migrated when first resolved) behind
    /// every store port: catalog, history, embedding cache, content hashes, re-index jobs, experiments and readiness, and
    /// the <see cref="CoPurchaseCounter"/> that counts the pairs of bulk batches after their commit.
    /// </summary>
    public static IServiceCollection AddSqliteStore(this IServiceCollection services, string databasePath)
    {
        services.AddSingleton(_ =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
            return SqliteStore.Open(databasePath);
        });
        services.AddStorePorts<SqliteStore>();
        services.AddHostedService<CoPurchaseCounter>();
        return services;
    }
}
