using Microsoft.Data.Sqlite;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.History;

namespace Recommend.Sqlite;

/// <summary>
/// The embedded default store: catalog, purchase history, embedding cache, content hashes and re-index jobs in one
/// SQLite file. Ready as soon as it is open (<see cref="Open"/> migrates the schema); faults SQLite reports for the
/// file itself (busy past the timeout, I/O errors, a full disk) surface as <see cref="DependencyUnavailableException"/>.
/// All writes go through one connection, serialised in-process by a gate and across processes by
/// <c>BEGIN IMMEDIATE</c>; reads use pooled connections of their own and, thanks to WAL, never wait for a writer.
/// </summary>
public sealed partial class SqliteStore : ICatalogStore, IHistoryStore, IEmbeddingCache, IStoreReadiness, IDisposable, IAsyncDisposable
{
    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly EventWriter _eventWriter;
    private bool _disposed;

    private SqliteStore(string connectionString, SqliteConnection writer)
    {
        _connectionString = connectionString;
        _writer = writer;
        _eventWriter = new EventWriter(writer);
    }

    /// <summary>Opens (creating if needed) the database at <paramref name="databasePath"/> and brings its schema up to date.</summary>
    public static SqliteStore Open(string databasePath)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY until the command timeout: this is the busy timeout.
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString();

        var writer = new SqliteConnection(connectionString);
        try
        {
            writer.Open();
            using (var pragmas = writer.CreateCommand())
            {
                // WAL: readers never block the writer nor it them. FULL: a committed write survives power loss.
                // A 64 MB page cache and rarer checkpoints keep bulk imports, which touch pages all over the
                // co-purchase table, from rereading and rewriting the same pages batch after batch.
                pragmas.CommandText = $"""
                    PRAGMA journal_mode = WAL;
                    PRAGMA synchronous = FULL;
                    PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds};
                    PRAGMA cache_size = -65536;
                    PRAGMA wal_autocheckpoint = 16384;
                    """;
                pragmas.ExecuteNonQuery();
            }
            writer.CreateFunction<double, double, double>(
                "log_add_exp", Popularity.LogAddExp, isDeterministic: true);
            SchemaMigrations.Apply(writer);
            return new SqliteStore(connectionString, writer);
        }
        catch
        {
            writer.Dispose();
            SqliteConnection.ClearPool(writer);
            throw;
        }
    }

    public string Name => "sqlite";

    public bool IsReady => !_disposed;

    public Task WhenReadyAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Runs <paramref name="query"/> on a pooled reader connection of its own.</summary>
    private async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> query, CancellationToken ct)
    {
        try
        {
            if (_disposed) throw Closed();
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(ct);
            return await query(connection);
        }
        catch (SqliteException e) when (IsFileFault(e))
        {
            throw Unavailable(e);
        }
    }

    /// <summary>Runs <paramref name="work"/> in one IMMEDIATE transaction on the writer connection; rolls back if it throws.</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteTransaction, T> work, CancellationToken ct)
    {
        await _writeGate.WaitAsync(ct);
        try
        {
            if (_disposed) throw Closed();
            using var transaction = _writer.BeginTransaction(deferred: false);
            var result = work(transaction);
            transaction.Commit();
            return result;
        }
        catch (SqliteException e) when (IsFileFault(e))
        {
            throw Unavailable(e);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Faults of the database file or its lock, worth a retry later — not a constraint or a bad statement.</summary>
    private static bool IsFileFault(SqliteException e) => e.SqliteErrorCode is
        SqliteErrorCodes.Busy or SqliteErrorCodes.Locked or SqliteErrorCodes.NoMemory or SqliteErrorCodes.IoError
        or SqliteErrorCodes.Full or SqliteErrorCodes.CantOpen or SqliteErrorCodes.Protocol;

    private static DependencyUnavailableException Unavailable(SqliteException e) =>
        new("store", "the store is unavailable; retry later", e);

    private static DependencyUnavailableException Closed() => new("store", "the store is closed (shutting down)");

    private static class SqliteErrorCodes
    {
        public const int Busy = 5, Locked = 6, NoMemory = 7, IoError = 10, Full = 13, CantOpen = 14, Protocol = 15;
    }

    public void Dispose()
    {
        _writeGate.Wait();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _eventWriter.Dispose();
            _writer.Dispose();
            // Pooled reader connections would otherwise keep the file open after the store is gone.
            SqliteConnection.ClearPool(_writer);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
