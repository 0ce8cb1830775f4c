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
        services.AddSingleton(_ => NpgsqlDataSource.Create(WithBoundedWaits(connectionString)));
        services.AddSingleton(provider => new PostgresStore(provider.GetRequiredService<NpgsqlDataSource>()));
        services.AddStorePorts<PostgresStore>();
        services.AddHostedService<PostgresStoreStartup>();
        return services;
    }

    /// <summary>
    /// Npgsql waits 15 s to connect and sends no keepalives by default: against a black-holed server a call would
    /// wait on a dead socket. Unless the connection string says otherwise, connecting gives up after 5 s and idle
    /// sockets are probed every 10 s; each call's own deadline cancels its command (Npgsql then drops the connection
    /// if the server does not answer the cancel within its 2 s cancellation timeout).
    /// </summary>
    internal static string WithBoundedWaits(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("Timeout")) builder.Timeout = 5;
        if (!given.ContainsKey("Keepalive")) builder.KeepAlive = 10;
        return builder.ConnectionString;
    }
}
