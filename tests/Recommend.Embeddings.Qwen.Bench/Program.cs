using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Recommend.Embeddings.Qwen;

// Console benchmark of the Qwen3 embedding path; see docs/benchmarks.md and run-bench.sh beside this file.
//   tokenizer TOKENIZER_JSON PRODUCTS_CSV_GZ
//   onnx MODEL_DIR fp32|int8 THREADS INPUTS_JSON PRODUCTS_CSV_GZ   (INPUTS_JSON is written on the first run and read
//                                                                   by the next ones and by bench_torch.py)
const int BenchMaxTokens = 128; // the long inputs are cut to exactly this many tokens

return args switch
{
    ["tokenizer", var tokenizerJson, var products] => BenchTokenizer(tokenizerJson, products),
    ["onnx", var modelDir, var precision, var threads, var inputsJson, var products] =>
        await BenchOnnx(modelDir, Enum.Parse<QwenPrecision>(precision, ignoreCase: true), int.Parse(threads), inputsJson, products),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: tokenizer TOKENIZER_JSON PRODUCTS_CSV_GZ | onnx MODEL_DIR fp32|int8 THREADS INPUTS_JSON PRODUCTS_CSV_GZ");
    return 2;
}

static int BenchTokenizer(string tokenizerJson, string productsCsvGz)
{
    var titles = ProductTitles(productsCsvGz);
    var tokenizer = Qwen3Tokenizer.FromFile(tokenizerJson);
    var cold = Stopwatch.StartNew();
    var coldTokens = titles.Sum(t => (long)tokenizer.Encode(t).Length); // first pass: empty piece cache, JIT not yet tiered
    cold.Stop();

    var warmTokens = 0L;
    var rounds = 0;
    var warm = Stopwatch.StartNew();
    while (warm.Elapsed < TimeSpan.FromSeconds(3))
    {
        foreach (var title in titles) warmTokens += tokenizer.Encode(title).Length;
        rounds++;
    }
    warm.Stop();

    var fresh = Qwen3Tokenizer.FromFile(tokenizerJson); // empty piece cache again, JIT now warm: the BPE's own speed
    var freshWatch = Stopwatch.StartNew();
    var freshTokens = titles.Sum(t => (long)fresh.Encode(t).Length);
    freshWatch.Stop();
    Console.WriteLine($"| tokenizer, {titles.Count} product titles, first pass (cold cache) | {coldTokens / cold.Elapsed.TotalSeconds / 1e6:F2} M tokens/s | {titles.Count / cold.Elapsed.TotalSeconds:N0} texts/s |");
    Console.WriteLine($"| tokenizer, new instance (empty cache, JIT warm), one pass | {freshTokens / freshWatch.Elapsed.TotalSeconds / 1e6:F2} M tokens/s | {titles.Count / freshWatch.Elapsed.TotalSeconds:N0} texts/s |");
    Console.WriteLine($"| tokenizer, same titles, {rounds} more passes (warm cache) | {warmTokens / warm.Elapsed.TotalSeconds / 1e6:F2} M tokens/s | {rounds * titles.Count / warm.Elapsed.TotalSeconds:N0} texts/s |");
    return 0;
}

static async Task<int> BenchOnnx(string modelDir, QwenPrecision precision, int threads, string inputsJson, string productsCsvGz)
{
    var loading = Stopwatch.StartNew();
    using var embedder = QwenEmbedder.Create(new QwenEmbedderOptions
    {
        ModelDirectory = modelDir,
        Precision = precision,
        IntraOpThreads = threads,
        MaxTokens = BenchMaxTokens,
        Dimension = QwenEmbedderOptions.MinDimension, // pooling cost is negligible; lets the tiny test graph run too
        MaxBatchSize = 32,
        MaxPaddingRatio = double.MaxValue, // one batch per call, exactly as PyTorch gets it
    });
    loading.Stop();
    var inputs = LoadOrCreateInputs(embedder.Tokenizer, inputsJson, productsCsvGz);

    await embedder.EmbedDocumentsAsync(inputs["title"][..8], CancellationToken.None); // warm-up: first run initialises kernels
    Console.WriteLine($"<!-- {precision}: session load {loading.Elapsed.TotalSeconds:F1} s, {embedder.Info.ModelId} -->");
    foreach (var (kind, texts) in inputs)
    {
        foreach (var batch in new[] { 1, 8, 32 })
        {
            var slice = texts[..batch];
            var tokens = slice.Sum(t => (long)embedder.Tokenizer.Encode(t, BenchMaxTokens).Length);
            var (seconds, iterations) = await Measure(() => embedder.EmbedDocumentsAsync(slice, CancellationToken.None));
            Console.WriteLine($"| ONNX Runtime {precision.ToString().ToLowerInvariant()} | {kind} | {batch} | {tokens} | {tokens / seconds:F1} | {batch / seconds:F2} | {iterations} |");
        }
    }
    Console.WriteLine($"<!-- {precision}: peak RSS {PeakRssMiB()} MiB -->");
    return 0;
}

// At least one timed run; more while under ~10 s in total (a 32 × 128-token batch of the full model takes tens of seconds on 2 cores).
static async Task<(double SecondsPerRun, int Iterations)> Measure(Func<Task> run)
{
    var watch = Stopwatch.StartNew();
    var iterations = 0;
    do
    {
        await run();
        iterations++;
    } while (iterations < 5 && watch.Elapsed.TotalSeconds * (iterations + 1) / iterations < 10);
    return (watch.Elapsed.TotalSeconds / iterations, iterations);
}

// Texts shared with bench_torch.py, which reads their token ids: 32 product titles (every 100th, so lengths vary) and
// 32 texts cut to exactly 128 tokens (MaxTokens of the benchmark embedder).
static Dictionary<string, string[]> LoadOrCreateInputs(Qwen3Tokenizer tokenizer, string inputsJson, string productsCsvGz)
{
    if (!File.Exists(inputsJson))
    {
        var titles = ProductTitles(productsCsvGz);
        var sampled = titles.Where((_, i) => i % 100 == 0).Take(32).ToArray();
        var long128 = Enumerable.Range(0, 32).Select(i => string.Join(". ", titles.Skip(i * 40).Take(40))).ToArray();
        var texts = new Dictionary<string, string[]> { ["title"] = sampled, ["128 tokens"] = long128 };
        var ids = texts.ToDictionary(p => p.Key, p => p.Value.Select(t => tokenizer.Encode(t, BenchMaxTokens)).ToArray());
        File.WriteAllText(inputsJson, JsonSerializer.Serialize(new { texts, ids }));
    }
    using var json = JsonDocument.Parse(File.ReadAllText(inputsJson));
    return json.RootElement.GetProperty("texts").EnumerateObject()
        .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(t => t.GetString()!).ToArray());
}

static List<string> ProductTitles(string productsCsvGz)
{
    using var reader = new StreamReader(new GZipStream(File.OpenRead(productsCsvGz), CompressionMode.Decompress));
    reader.ReadLine();
    var titles = new List<string>();
    while (reader.ReadLine() is { } line)
    {
        // Column 2; titles holding commas are quoted (no title holds a quote followed by a comma).
        var title = line.Split(',', 2)[1];
        title = title.StartsWith('"') ? title[1..title.IndexOf("\",", 1, StringComparison.Ordinal)].Replace("\"\"", "\"") : title[..title.IndexOf(',')];
        if (title.Length > 0) titles.Add(title);
    }
    return titles;
}

static long PeakRssMiB() =>
    File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:")).Select(l => long.Parse(l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).Single();
