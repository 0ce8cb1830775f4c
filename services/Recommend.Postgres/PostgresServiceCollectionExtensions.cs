using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Recommend.Sql;

namespace Recommend.Postgres;

public static class PostgresServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Postgres store: one pooled <see cref="NpgsqlDataSource"/> (disposed by the container), one
    /// <see cref="PostgresStore"/> over it serving every store port and <see cref="IStoreReadiness"/>, and
    /// <see cref="PostgresStoreStartup"/>, which connects and migrates in the background (the store answers
    /// "not ready" until then) and then keeps co-purchase counts up to date.
    /// </summary>
    public static IServiceCollection AddPostgresStore(this IServiceCollection services, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        // Creating a data source does not connect; the first connection is the start-up's migration.
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddSingleton(provider => new PostgresStore(provider.GetRequiredService<NpgsqlDataSource>()));
        services.AddStorePorts<PostgresStore>();
        services.AddHostedService<PostgresStoreStartup>();
        return services;
    }
}
