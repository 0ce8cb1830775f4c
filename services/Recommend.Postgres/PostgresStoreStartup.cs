using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Recommend.Postgres;

/// <summary>
/// The Postgres store's background work for the host's lifetime: connects and migrates (<see cref="PostgresStore.MigrateAsync"/>),
/// retrying with jittered exponential backoff for as long as it takes and logging why, which makes the store ready; then
/// runs its <see cref="CoPurchaseUpdater"/> until the host stops.
/// </summary>
public sealed class PostgresStoreStartup(PostgresStore store, ILoggerFactory loggers, ILogger<PostgresStoreStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(30),
                OnRetry = args =>
                {
                    // The reason's type only: Npgsql's messages may name the host, port or user.
                    logger.LogWarning("Store {Provider} unreachable ({Reason}); retry {Attempt} in {Delay:F1} s",
                        store.Name, Describe(args.Outcome.Exception), args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        await retry.ExecuteAsync(async token => await store.MigrateAsync(token), stoppingToken);
        logger.LogInformation("Store {Provider} connected", store.Name);

        // Co-purchase counts are kept by a durable background step (ingest stays fast); it runs for as long as the host.
        await store.CreateCoPurchaseUpdater(logger: loggers.CreateLogger<CoPurchaseUpdater>()).RunAsync(stoppingToken);
    }

    /// <summary>E.g. "NpgsqlException (SocketException ConnectionRefused)" or "PostgresException 3D000".</summary>
    private static string Describe(Exception? e)
    {
        if (e is null) return "unknown";
        if (e is PostgresException postgres) return $"{nameof(PostgresException)} {postgres.SqlState}";
        var type = e.GetType().Name;
        return e.InnerException switch
        {
            SocketException socket => $"{type} ({nameof(SocketException)} {socket.SocketErrorCode})",
            { } inner => $"{type} ({inner.GetType().Name})",
            null => type,
        };
    }
}
