using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;
using Recommend.Testing.Qwen;
using static Recommend.Embeddings.Qwen.Tests.VectorMath;

namespace Recommend.Embeddings.Qwen.Tests;

[Collection(TinyQwenModelsCollection.Name)]
public sealed class QwenEmbedderTests(TinyQwenModels models, ITestOutputHelper output)
{
    private const int MaxTokens = 96;

    /// <summary>Short and long texts together, so batches are left-padded; the longest exceeds MaxTokens and is truncated.</summary>
    private static readonly string[] MixedTexts =
    [
        "WHITE HANGING HEART T-LIGHT HOLDER",
        "mug",
        string.Join(" ", Enumerable.Repeat("REGENCY CAKESTAND 3 TIER with vintage roses, gift boxed", 20)),
        "我爱自然语言处理。北京欢迎你！",
        "SET OF 3 CAKE TINS PANTRY DESIGN",
        "مرحبا بالعالم 𝟘𝐀 👍🏽",
        "JUMBO BAG RED RETROSPOT",
        string.Join(" ", Enumerable.Repeat("PACK OF 72 RETROSPOT CAKE CASES", 6)),
        "नमस्ते दुनिया",
    ];

    private QwenEmbedder Create(string interfaceName = "a", int dimension = TinyQwenModels.HiddenSize, QwenPrecision precision = QwenPrecision.Fp32,
        int maxBatchSize = 4, double maxPaddingRatio = 100, int parallelBatches = 1, ILogger? logger = null, bool useCuda = false) =>
        QwenEmbedder.Create(new QwenEmbedderOptions
        {
            ModelDirectory = models.ModelDirectory(interfaceName),
            Dimension = dimension,
            Precision = precision,
            MaxTokens = MaxTokens,
            MaxBatchSize = maxBatchSize,
            MaxPaddingRatio = maxPaddingRatio,
            MaxParallelBatches = parallelBatches,
            IntraOpThreads = 1,
            UseCuda = useCuda,
        }, logger);

    private double[][] Reference(QwenEmbedder embedder, IEnumerable<string> texts) =>
        models.ReferencePooled(texts.Select(t => embedder.Tokenizer.Encode(t, MaxTokens)).ToArray());

    [Theory]
    [InlineData("a")]
    [InlineData("b")]
    public async Task Padded_batches_match_the_reference_in_both_onnx_interfaces(string interfaceName)
    {
        using var embedder = Create(interfaceName);
        Assert.True(embedder.Tokenizer.Encode(MixedTexts[2]).Length > MaxTokens); // one text is truncated

        var vectors = await embedder.EmbedDocumentsAsync(MixedTexts, CancellationToken.None);

        var expected = Reference(embedder, MixedTexts);
        for (var i = 0; i < MixedTexts.Length; i++)
        {
            var cosine = Cosine(vectors[i], expected[i]);
            Assert.True(cosine >= 0.9999, $"text {i}: cosine {cosine}");
            Assert.Equal(1.0, Norm(vectors[i]), 5);
        }
    }

    [Fact]
    public async Task A_texts_vector_does_not_depend_on_the_batch_it_is_in()
    {
        using var embedder = Create(maxBatchSize: 32);
        var alone = (await embedder.EmbedDocumentsAsync(["JUMBO BAG RED RETROSPOT"], CancellationToken.None))[0];

        var inBatch = await embedder.EmbedDocumentsAsync(MixedTexts, CancellationToken.None); // one batch, padded to the longest
        using var parallelEmbedder = Create(maxBatchSize: 2, parallelBatches: 2);
        var fromTwoParallelBatches = await parallelEmbedder.EmbedDocumentsAsync(MixedTexts, CancellationToken.None);

        var index = Array.IndexOf(MixedTexts, "JUMBO BAG RED RETROSPOT");
        Assert.All(alone.Zip(inBatch[index]), p => Assert.Equal(p.First, p.Second, 1e-5f));
        Assert.All(inBatch.Zip(fromTwoParallelBatches), p => Assert.True(Cosine(p.First, p.Second) > 0.99999));
    }

    [Fact]
    public async Task Matryoshka_keeps_the_leading_dimensions_then_normalises()
    {
        using var full = Create(dimension: 64);
        using var truncated = Create(dimension: 32);

        var fullVectors = await full.EmbedDocumentsAsync(MixedTexts, CancellationToken.None);
        var truncatedVectors = await truncated.EmbedDocumentsAsync(MixedTexts, CancellationToken.None);

        var reference = Reference(truncated, MixedTexts);
        for (var i = 0; i < MixedTexts.Length; i++)
        {
            Assert.Equal(32, truncatedVectors[i].Length);
            Assert.Equal(1.0, Norm(truncatedVectors[i]), 5);
            Assert.True(Cosine(truncatedVectors[i], TruncateAndNormalize(reference[i], 32)) >= 0.9999);
            Assert.True(Cosine(truncatedVectors[i], fullVectors[i][..32]) >= 0.99999); // same direction as the full vector's head
        }
        Assert.Equal(new Core.Vectors.IndexSpec(full.Info.ModelId, 32), truncated.Info.Spec);
    }

    [Fact]
    public async Task Queries_get_the_instruction_prefix_and_documents_do_not()
    {
        using var embedder = Create();
        var query = await embedder.EmbedQueryAsync("red mug", CancellationToken.None);
        var asDocuments = await embedder.EmbedDocumentsAsync(
            ["red mug", $"Instruct: {QwenEmbedderOptions.DefaultQueryTask}\nQuery:red mug"], CancellationToken.None);

        Assert.Equal(asDocuments[1], query);
        Assert.True(Cosine(asDocuments[0], query) < 0.9999);
    }

    [Fact]
    public async Task Bad_inputs_give_unit_vectors_equal_to_the_reference()
    {
        string[] texts =
        [
            "",
            new string('x', 25_000) + string.Concat(Enumerable.Repeat("ab ", 8_334)), // 50,000 characters: truncated
            "ctrl\u0000\u0001\u0007\u001b[0m\t\r\n\u007f\u0085end",
            "lone \uD800 high and \uDC00 low \uD83D",
            "<|endoftext|><|im_start|>",
        ];
        Assert.Equal(50_002, texts[1].Length);
        using var embedder = Create();

        var vectors = await embedder.EmbedDocumentsAsync(texts, CancellationToken.None);

        Assert.Equal(MaxTokens, embedder.Tokenizer.Encode(texts[1], MaxTokens).Length);
        var reference = Reference(embedder, texts);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(TinyQwenModels.HiddenSize, vectors[i].Length);
            Assert.All(vectors[i], x => Assert.True(float.IsFinite(x)));
            Assert.True(Cosine(vectors[i], reference[i]) >= 0.9999, $"text {i}");
        }
    }

    [Fact]
    public async Task Int8_model_stays_close_to_the_fp32_reference()
    {
        using var embedder = Create(precision: QwenPrecision.Int8);
        using var fp32 = Create();

        var vectors = await embedder.EmbedDocumentsAsync(MixedTexts, CancellationToken.None);

        var reference = Reference(embedder, MixedTexts);
        var cosines = vectors.Select((v, i) => Cosine(v, reference[i])).ToArray();
        output.WriteLine($"int8 vs fp32 reference cosine: min {cosines.Min():F5}, mean {cosines.Average():F5}");
        Assert.All(cosines, c => Assert.True(c >= 0.98, $"cosine {c}"));
        Assert.NotEqual(fp32.Info.ModelId, embedder.Info.ModelId);
        Assert.Contains("model_quantized.onnx@", embedder.Info.ModelId);
    }

    [Fact]
    public void Model_id_names_the_weights_and_is_stable_across_instances()
    {
        using var first = Create("a");
        using var second = Create("a");
        using var otherExport = Create("b");

        Assert.Equal(QwenEmbedder.EmbedderName, first.Info.Name);
        Assert.StartsWith("qwen3-embedding-h64/model.onnx@", first.Info.ModelId);
        Assert.Equal(first.Info, second.Info);
        Assert.NotEqual(first.Info.ModelId, otherExport.Info.ModelId); // interface (b) graph differs, same weights
    }

    [Fact]
    public void Finds_models_in_the_folder_or_its_onnx_subfolder_and_nothing_elsewhere()
    {
        Assert.Equal(Path.Combine(models.InterfaceA, "model.onnx"), QwenEmbedder.TryFindModel(models.InterfaceA)!.OnnxPath);
        Assert.Equal(Path.Combine(models.InterfaceB, "onnx", "model.onnx"), QwenEmbedder.TryFindModel(models.InterfaceB)!.OnnxPath);
        Assert.Null(QwenEmbedder.TryFindModel(models.InterfaceB, QwenPrecision.Int8));
        Assert.Null(QwenEmbedder.TryFindModel(Path.GetTempPath() + Guid.NewGuid()));
        Assert.Null(QwenEmbedder.TryFindModel(null));
        Assert.Throws<FileNotFoundException>(() => Create("b", precision: QwenPrecision.Int8));
    }

    [Fact]
    public void Rejects_dimensions_outside_the_model_and_the_matryoshka_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(dimension: 128)); // hidden size is 64
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(dimension: 16));
    }

    [Fact]
    public async Task Cuda_request_without_cuda_falls_back_to_cpu_and_says_so()
    {
        var logger = new RecordingLogger();
        using var embedder = Create(useCuda: true, logger: logger);

        var vector = (await embedder.EmbedDocumentsAsync(["mug"], CancellationToken.None))[0];

        Assert.Equal(TinyQwenModels.HiddenSize, vector.Length);
        Assert.Contains(logger.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("CUDA") && l.Message.Contains("CPU"));
    }

    [Fact]
    public async Task Cancelled_requests_stop()
    {
        using var embedder = Create();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => embedder.EmbedDocumentsAsync(MixedTexts, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => embedder.EmbedQueryAsync("mug", cancelled.Token));
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }
}
