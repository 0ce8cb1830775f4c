using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Learning;
using Recommend.Core.Ranking;
using Recommend.Core.Vectors;
using Recommend.Indexing;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Pipeline;
using Recommend.Indexing.Sharding;
using Recommend.Sqlite;

namespace Recommend.Reindexing.Tests;

/// <summary>
/// A SQLite store, a vector index and the services over them, in a temporary directory of their own. The re-indexing
/// engine is built by its own DI registration (<c>AddReindexing</c>), as the host and the CLI worker build it.
/// </summary>
internal sealed class ReindexWorld : IAsyncDisposable
{
    public static readonly ReindexOptions FastOptions = new()
    {
        BatchSize = 16,
        HeartbeatInterval = TimeSpan.FromMilliseconds(50),
        LeaseDuration = TimeSpan.FromSeconds(5),
        WatchInterval = TimeSpan.FromMilliseconds(20),
    };

    private readonly Func<ValueTask> _disposeIndex;
    private readonly List<ServiceProvider> _engines = [];

    private ReindexWorld(string directory, IVectorIndex index, Func<ValueTask> disposeIndex, ReindexOptions options)
    {
        Directory = directory;
        Store = SqliteStore.Open(Path.Combine(directory, "store.db"));
        Index = index;
        _disposeIndex = disposeIndex;
        Options = options;
        Catalog = new CatalogService(Store, Index, Embedders, Store, Store, new ActiveIndexBuild(Store));
        Engine = new RecommendationEngine(Store, Store, Index, Embedders, new LiveItemModel(), NullLogger<RecommendationEngine>.Instance);
        Reindex = NewService(options);
    }

    public string Directory { get; }
    public SqliteStore Store { get; }
    public IVectorIndex Index { get; }
    public CountingEmbedders Embedders { get; } = new();
    /// <summary>Errors the engines logged, with their exceptions: what a failed job's client message leaves out.</summary>
    public LoggedErrors Errors { get; } = new();
    public ReindexOptions Options { get; }
    public CatalogService Catalog { get; }
    public RecommendationEngine Engine { get; }
    public ReindexService Reindex { get; }

    public static ReindexWorld Create(Func<string, (IVectorIndex Index, Func<ValueTask> Dispose)> openIndex, ReindexOptions? options = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("reindex-").FullName;
        var (index, dispose) = openIndex(directory);
        // File sources are admitted from the world's own directory, as a server admits them from its source directory.
        return new ReindexWorld(directory, index, dispose, (options ?? FastOptions) with { SourceDirectory = directory });
    }

    public ReindexService NewService(ReindexOptions options) => EngineFor(options).GetRequiredService<ReindexService>();

    public Reindexer NewReindexer(ReindexOptions options) => EngineFor(options).GetRequiredService<Reindexer>();

    public ShardedReindexWorker NewWorker(ReindexOptions options) => EngineFor(options).GetRequiredService<ShardedReindexWorker>();

    /// <summary>One process's re-indexing engine (its own owner name, options) over this world's store and index.</summary>
    private ServiceProvider EngineFor(ReindexOptions options)
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(Errors);
        services.AddSingleton(typeof(ILogger<>), typeof(ErrorRecordingLogger<>));
        services.AddSingleton<ICatalogStore>(Store);
        services.AddSingleton<IEmbeddingCache>(Store);
        services.AddSingleton<IContentHashLedger>(Store);
        services.AddSingleton<IReindexJobStore>(Store);
        services.AddSingleton(Index);
        services.AddSingleton<IEmbedderProvider>(Embedders);
        services.AddReindexing(options);
        var engine = services.BuildServiceProvider();
        lock (_engines) _engines.Add(engine);
        return engine;
    }

    public static Product Product(int i, string? title = null, double? price = null) =>
        new($"p{i:D4}", title ?? $"{Colours[i % Colours.Length]} {Things[i % Things.Length]} number {i}", $"item {i}",
            Things[i % Things.Length], price ?? 1 + i, true, Core.Catalog.Product.NoAttributes);

    private static readonly string[] Colours = ["red", "blue", "green", "yellow", "white", "black", "pink"];
    private static readonly string[] Things = ["mug", "teapot", "lantern", "cushion", "candle"];

    public static IReadOnlyList<Product> Products(int count) => Enumerable.Range(0, count).Select(i => Product(i)).ToList();

    /// <summary>Runs a job through the service to its end and returns its final progress.</summary>
    public async Task<ReindexProgress> RunAsync(ReindexRequest request)
    {
        var job = await Reindex.StartAsync(request, CancellationToken.None);
        await Reindex.WhenFinishedAsync(job.Id).WaitAsync(TimeSpan.FromMinutes(2));
        return await Reindex.GetProgressAsync(job.Id, CancellationToken.None);
    }

    public static ReindexRequest Full(string source = "store", int dimension = 0, int maxBadRows = 0) =>
        new(ReindexMode.Full, source, dimension, null, maxBadRows);

    public static ReindexRequest Incremental(string source = "store", int maxBadRows = 0) => new(ReindexMode.Incremental, source, 0, null, maxBadRows);

    public async Task<long> LiveCountAsync()
    {
        var live = await Index.GetLiveVersionAsync(CancellationToken.None);
        return live is null ? 0 : await Index.CountAsync(live.Name, CancellationToken.None);
    }

    public string WriteFile(string name, params string[] lines)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllLines(path, lines);
        return $"file:{path}";
    }

    public static string JsonLine(Product p) => JsonSerializer.Serialize(new
    {
        product_id = p.Id, title = p.Title, description = p.Description, category = p.Category, price = p.Price, in_stock = p.InStock,
    });

    public async ValueTask DisposeAsync()
    {
        foreach (var engine in _engines) await engine.DisposeAsync();
        await Store.DisposeAsync();
        await _disposeIndex();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

internal sealed class LoggedErrors
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _entries = new();

    public void Add(string entry) => _entries.Enqueue(entry);

    public override string ToString() => string.Join(Environment.NewLine, _entries);
}

/// <summary>Keeps errors (a failed job's cause) and drops the rest, so a failing test can say what went wrong.</summary>
internal sealed class ErrorRecordingLogger<T>(LoggedErrors errors) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) errors.Add($"{formatter(state, exception)}: {exception}");
    }
}
