using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex;
using Recommend.Embeddings.Qwen;
using Recommend.Indexing;
using Recommend.Indexing.Jobs;
using Recommend.Sqlite;
using Recommend.Testing.Qwen;

// Usage: dotnet run -c Release --project tests/Recommend.Reindexing.Bench -- [products=100000] [models=0,500,qwen-tiny]
// Models: a number is the hashing fallback plus that many µs of busy CPU per text; qwen-tiny is QwenEmbedder (fp32,
// ONNX Runtime, 2 threads) over the random-weight Qwen3-architecture graph from tests/fixtures/qwen/make_graphs.py
// --config tiny (hidden 64, real vocabulary and tokenizer).
// For each model it measures, in one process over one synthetic catalog (SQLite store, embedded index):
//   raw       embedding every product text in batches, nothing else;
//   full      a full re-index with a cold embedding cache (every text through the model);
//   full warm a second full re-index (every text from the cache);
//   incr      an incremental re-index of the unchanged catalog.
var products = args.Length > 0 ? int.Parse(args[0]) : 100_000;
var models = (args.Length > 1 ? args[1] : "0,500,qwen-tiny").Split(',');
var options = new ReindexOptions(); // the defaults a deployment runs with
var batchSize = options.BatchSize;

Console.WriteLine($"| model | products | raw embed (texts/s) | full, cold cache (products/s) | pipeline / raw | model inferences: full warm, incremental |");
Console.WriteLine("|---|---|---|---|---|---|");
using var tinyQwen = models.Contains("qwen-tiny") ? new TinyQwenModels() : null;
foreach (var modelName in models)
{
    var directory = Directory.CreateTempSubdirectory("reindex-bench-").FullName;
    try
    {
        await using var store = SqliteStore.Open(Path.Combine(directory, "store.db"));
        using var index = EmbeddedVectorIndex.Open(Path.Combine(directory, "index"));
        var catalog = Enumerable.Range(0, products).Select(Synthetic).ToList();
        foreach (var chunk in catalog.Chunk(5_000)) await store.UpsertProductsAsync(chunk, CancellationToken.None);

        using var qwen = modelName == "qwen-tiny"
            ? QwenEmbedder.Create(new QwenEmbedderOptions { ModelDirectory = tinyQwen!.InterfaceA, Dimension = TinyQwenModels.HiddenSize, IntraOpThreads = 2 })
            : null;
        var model = qwen is null ? new CostedEmbedder(new HashingEmbedder(), int.Parse(modelName)) : new CostedEmbedder(qwen, 0);
        var raw = Stopwatch.StartNew();
        foreach (var chunk in catalog.Chunk(batchSize)) await model.EmbedDocumentsAsync(chunk.Select(p => p.EmbeddingText).ToList(), CancellationToken.None);
        var rawRate = products / raw.Elapsed.TotalSeconds;
        model.Inferences = 0;

        // The engine as the host builds it: its own DI registration over the store, index and embedder.
        var services = new ServiceCollection()
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddSingleton<ICatalogStore>(store).AddSingleton<IEmbeddingCache>(store).AddSingleton<IContentHashLedger>(store)
            .AddSingleton<IReindexJobStore>(store).AddSingleton<IVectorIndex>(index).AddSingleton<IEmbedderProvider>(new Provider(model))
            .AddReindexing(options);
        await using var engine = services.BuildServiceProvider();
        var service = engine.GetRequiredService<ReindexService>();
        async Task<ReindexJob> RunAsync(ReindexMode mode)
        {
            var job = await service.StartAsync(new ReindexRequest(mode, "store"), CancellationToken.None);
            await service.WhenFinishedAsync(job.Id);
            var done = (await service.GetProgressAsync(job.Id, CancellationToken.None)).Job;
            if (done.State != ReindexState.Succeeded) throw new InvalidOperationException($"{mode} run ended {done.State}: {done.Run.Error}");
            return done;
        }

        var full = Stopwatch.StartNew();
        await RunAsync(ReindexMode.Full);
        var fullRate = products / full.Elapsed.TotalSeconds;
        var coldInferences = model.Inferences;
        model.Inferences = 0;
        await RunAsync(ReindexMode.Full);
        var warmInferences = model.Inferences;
        await RunAsync(ReindexMode.Incremental);
        var incrementalInferences = model.Inferences - warmInferences;
        if (coldInferences != products) throw new InvalidOperationException($"cold run embedded {coldInferences} texts, expected {products}");
        Console.WriteLine($"| {Describe(modelName)} | {products:N0} | {rawRate:N0} | {fullRate:N0} | {fullRate / rawRate:P0} | {warmInferences}, {incrementalInferences} |");
        await service.DisposeAsync();
    }
    finally
    {
        Directory.Delete(directory, recursive: true);
    }
}

static string Describe(string model) => model switch
{
    "qwen-tiny" => "QwenEmbedder, tiny Qwen3 graph (fp32)",
    "0" => "hashing fallback",
    _ => $"fallback + {model} µs/text",
};

static Product Synthetic(int i) => new(
    $"sku-{i:D7}", $"{Words[i % Words.Length]} {Words[i / 7 % Words.Length]} {Words[i / 49 % Words.Length]} no. {i}",
    $"A {Words[i / 3 % Words.Length]} item for the {Words[i / 11 % Words.Length]} room", Words[i % 13], 1 + i % 500, i % 10 != 0,
    Product.NoAttributes);

/// <summary>A model plus an optional fixed compute cost per text (a stand-in for a model of known speed), counting texts.</summary>
sealed class CostedEmbedder(IEmbedder inner, int microsecondsPerText) : IEmbedder
{
    public long Inferences;
    public EmbedderInfo Info => inner.Info;

    public async Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var vectors = await inner.EmbedDocumentsAsync(texts, ct);
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * microsecondsPerText * texts.Count / 1_000_000;
        while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(50); // busy like a model, not asleep
        Interlocked.Add(ref Inferences, texts.Count);
        return vectors;
    }

    public Task<float[]> EmbedQueryAsync(string query, CancellationToken ct) => inner.EmbedQueryAsync(query, ct);
}

sealed class Provider(IEmbedder model) : IEmbedderProvider
{
    public IEmbedder Default => model;
    public int MinDimension => model.Info.Dimension;
    public int MaxDimension => model.Info.Dimension;
    public IEmbedder For(IndexSpec spec) => spec == model.Info.Spec ? model : throw new IndexSpecMismatchException(spec, model.Info.Spec);
}

static partial class Program
{
    private static readonly string[] Words =
        ["red", "blue", "vintage", "enamel", "ceramic", "garden", "kitchen", "lantern", "teapot", "mug", "cushion", "candle", "wooden", "glass", "heart", "star", "spotty", "stripy", "retro", "paper"];
}
