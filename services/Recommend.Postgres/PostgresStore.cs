using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.History;

namespace Recommend.Postgres;

/// <summary>
/// Catalog, history and embedding cache in PostgreSQL. Stateless apart from the pooled data source, so any number
/// of service replicas can share one database. Recording events commits them with basket membership and popularity;
/// co-purchase counts follow from a <see cref="CoPurchaseUpdater"/>, which the host must keep running.
/// </summary>
public sealed partial class PostgresStore : ICatalogStore, IHistoryStore, IEmbeddingCache, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private bool _disposed;

    /// <summary>A store over a data source the caller owns (e.g. one registered in DI). The schema must be migrated.</summary>
    public PostgresStore(NpgsqlDataSource dataSource) : this(dataSource, ownsDataSource: false)
    {
    }

    private PostgresStore(NpgsqlDataSource dataSource, bool ownsDataSource)
    {
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
    }

    /// <summary>
    /// Connects, migrates the schema and returns a store that owns its connection pool.
    /// An unreachable server surfaces as <see cref="NpgsqlException"/>, which callers may retry.
    /// </summary>
    public static async Task<PostgresStore> OpenAsync(string connectionString, CancellationToken ct)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        try
        {
            await new PostgresMigrator(dataSource).MigrateAsync(ct);
            return new PostgresStore(dataSource, ownsDataSource: true);
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The background step that turns the basket items this store queues into co-purchase counts, over this store's
    /// connection pool. The host runs its <see cref="CoPurchaseUpdater.RunAsync"/> for as long as the store is open.
    /// </summary>
    public CoPurchaseUpdater CreateCoPurchaseUpdater(CoPurchaseUpdaterOptions? options = null, ILogger<CoPurchaseUpdater>? logger = null) =>
        new(_dataSource, options, logger);

    public async ValueTask DisposeAsync()
    {
        if (_disposed || !_ownsDataSource) return;
        _disposed = true;
        await _dataSource.DisposeAsync();
    }

    /// <summary>
    /// Writers lock rows in a fixed order, so deadlocks should not happen; should one happen anyway (or a
    /// serialization failure under a stricter isolation level), the whole transaction is simply run again.
    /// </summary>
    private static readonly ResiliencePipeline ConflictRetry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<PostgresException>(e =>
                e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure),
            MaxRetryAttempts = 5,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(20),
        })
        .Build();
}
