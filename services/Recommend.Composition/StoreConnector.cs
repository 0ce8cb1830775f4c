using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Recommend.Postgres;
using Recommend.Sqlite;

namespace Recommend.Composition;

/// <summary>
/// Opens the configured store (applying migrations), retrying with jittered exponential backoff for as long as it
/// takes and logging why, then hands it to <see cref="DeferredStore"/>. Health reports NOT_SERVING until then.
/// </summary>
public sealed class StoreConnector(
    DeferredStore deferred, IOptions<RecommendOptions> options, IConfiguration configuration, ILoggerFactory loggers, ILogger<StoreConnector> logger)
    : BackgroundService
{
    private IAsyncDisposable? opened;

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
                    logger.LogWarning("Store {Provider} unreachable ({Reason}); retry {Attempt} in {Delay:F1} s",
                        options.Value.Store.Provider, args.Outcome.Exception?.Message, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        await retry.ExecuteAsync(ConnectAsync, stoppingToken);
        logger.LogInformation("Store {Provider} connected", deferred.Name);

        // Postgres keeps co-purchase counts by a durable background step (ingest stays fast); it runs for as long
        // as the store is open.
        if (opened is PostgresStore postgres)
            await postgres.CreateCoPurchaseUpdater(logger: loggers.CreateLogger<CoPurchaseUpdater>()).RunAsync(stoppingToken);
    }

    private async ValueTask ConnectAsync(CancellationToken ct)
    {
        switch (options.Value.Store.Provider.ToLowerInvariant())
        {
            case "sqlite":
                Directory.CreateDirectory(options.Value.DataDirectory);
                var sqlite = SqliteStore.Open(Path.Combine(options.Value.DataDirectory, "recommend.db"));
                opened = sqlite;
                deferred.Connect(sqlite, "sqlite");
                break;
            case "postgres":
                var connectionString = configuration.GetConnectionString("Postgres")
                    ?? throw new InvalidOperationException("ConnectionStrings:Postgres (env ConnectionStrings__Postgres) is required for the postgres store.");
                var postgres = await PostgresStore.OpenAsync(connectionString, ct);
                opened = postgres;
                deferred.Connect(postgres, "postgres");
                break;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (opened is not null) await opened.DisposeAsync();
    }
}
