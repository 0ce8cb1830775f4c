using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.History;

namespace Recommend.Postgres;

/// <summary>
/// Catalog, history and embedding cache in PostgreSQL. Stateless apart from the pooled data source, so any number
/// of service replicas can share one database. Recording events commits them with basket membership and popularity;
/// co-purchase counts follow from a <see cref="CoPurchaseUpdater"/>, which the host must keep running.
/// </summary>
/// <remarks>
/// Every port method fails fast with <see cref="DependencyUnavailableException"/> until <see cref="MigrateAsync"/> has
/// succeeded once (see <see cref="IStoreReadiness"/>), and turns the database's transient faults into the same exception,
/// so callers above the adapter never see Npgsql types, hosts or ports.
/// </remarks>
public sealed partial class PostgresStore : ICatalogStore, IHistoryStore, IEmbeddingCache, IStoreReadiness, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    /// <summary>
    /// A store over a data source the caller owns (e.g. one registered in DI); it connects only when first used. Not
    /// ready until <see cref="MigrateAsync"/> has succeeded.
    /// </summary>
    public PostgresStore(NpgsqlDataSource dataSource) : this(dataSource, ownsDataSource: false)
    {
    }

    private PostgresStore(NpgsqlDataSource dataSource, bool ownsDataSource)
    {
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
    }

    /// <summary>
    /// Connects, migrates the schema and returns a ready store that owns its connection pool (tests, the CLI).
    /// An unreachable server surfaces as <see cref="NpgsqlException"/>, which callers may retry.
    /// </summary>
    public static async Task<PostgresStore> OpenAsync(string connectionString, CancellationToken ct)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        try
        {
            var store = new PostgresStore(dataSource, ownsDataSource: true);
            await store.MigrateAsync(ct);
            return store;
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
    }

    public string Name => "postgres";

    public bool IsReady => _ready.Task.IsCompleted;

    public Task WhenReadyAsync(CancellationToken ct) => _ready.Task.WaitAsync(ct);

    /// <summary>
    /// Brings the schema up to date (connecting on the way) and then marks the store ready. Database errors surface
    /// as they are (<see cref="NpgsqlException"/>), for the caller to retry; safe to run again and from many replicas.
    /// </summary>
    public async Task MigrateAsync(CancellationToken ct)
    {
        await new PostgresMigrator(_dataSource).MigrateAsync(ct);
        _ready.TrySetResult();
    }

    /// <summary>
    /// The background step that turns the basket items this store queues into co-purchase counts, over this store's
    /// connection pool. The host runs its <see cref="CoPurchaseUpdater.RunAsync"/> for as long as the store is open.
    /// </summary>
    public CoPurchaseUpdater CreateCoPurchaseUpdater(CoPurchaseUpdaterOptions? options = null, ILogger<CoPurchaseUpdater>? logger = null) =>
        new(_dataSource, options, logger);

    /// <summary>
    /// Disposes the data source only when this store owns it (<see cref="OpenAsync"/>), once; else its owner does (in DI,
    /// the container, which may call this once per port the store is registered as).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_ownsDataSource || Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _dataSource.DisposeAsync();
    }

    /// <summary>As <see cref="DisposeAsync"/>, for a container disposed synchronously.</summary>
    public void Dispose()
    {
        if (!_ownsDataSource || Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _dataSource.Dispose();
    }

    /// <summary>
    /// The adapter boundary every port method goes through: fails fast until the store is ready, opens a pooled
    /// connection for <paramref name="operation"/>, and turns transient faults (opening included) into
    /// <see cref="DependencyUnavailableException"/>. Other errors, and the caller's own cancellation, pass unchanged.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> operation, CancellationToken ct)
    {
        if (!IsReady) throw PostgresFaults.NotReady();
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(ct);
            return await operation(connection);
        }
        catch (Exception e) when (PostgresFaults.IsTransient(e, ct))
        {
            throw PostgresFaults.Unavailable(e);
        }
    }

    /// <summary>The same boundary, for an operation without a result.</summary>
    private Task RunAsync(Func<NpgsqlConnection, Task> operation, CancellationToken ct) =>
        RunAsync<bool>(async connection =>
        {
            await operation(connection);
            return true;
        }, ct);

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
