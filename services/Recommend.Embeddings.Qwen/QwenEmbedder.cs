using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Recommend.Core.Diagnostics;
using Recommend.Core.Embeddings;

namespace Recommend.Embeddings.Qwen;

/// <summary>
/// Qwen3-Embedding over ONNX Runtime: exact tokenizer, left-padded length-bucketed batches, last-token pooling,
/// Matryoshka truncation to <see cref="QwenEmbedderOptions.Dimension"/>, then L2 normalisation. Holds the process's one
/// inference session: register a single instance. Thread-safe.
/// </summary>
public sealed class QwenEmbedder : IEmbedder, IDisposable
{
    public const string EmbedderName = "qwen3-onnx";

    private readonly QwenEmbedderOptions _options;
    private readonly QwenOnnxSession _session;

    public EmbedderInfo Info { get; }
    public Qwen3Tokenizer Tokenizer { get; }

    private QwenEmbedder(QwenEmbedderOptions options, Qwen3Tokenizer tokenizer, QwenOnnxSession session, string modelId)
    {
        _options = options;
        Tokenizer = tokenizer;
        _session = session;
        Info = new EmbedderInfo(EmbedderName, modelId, options.Dimension);
    }

    /// <summary>The model files for these options, or null when the directory holds no usable model (the host then falls back).</summary>
    public static QwenModelFiles? TryFindModel(string? modelDirectory, QwenPrecision precision = QwenPrecision.Fp32) =>
        QwenModelFiles.TryFind(modelDirectory, precision);

    public static QwenEmbedder Create(QwenEmbedderOptions options, ILogger? logger = null)
    {
        options.Validate();
        logger ??= NullLogger.Instance;
        var files = QwenModelFiles.TryFind(options.ModelDirectory, options.Precision)
            ?? throw new FileNotFoundException(
                $"No {QwenModelFiles.OnnxFileName(options.Precision)} with tokenizer.json in {options.ModelDirectory} (or its onnx/ folder).");
        var tokenizer = Qwen3Tokenizer.FromFile(files.TokenizerPath);
        var session = QwenOnnxSession.Open(files.OnnxPath, options, logger);
        try
        {
            if (session.HiddenSize > 0 && options.Dimension > session.HiddenSize)
                throw new ArgumentOutOfRangeException(nameof(options), options.Dimension, $"Dimension exceeds the model's hidden size {session.HiddenSize}.");
            var modelId = $"qwen3-embedding-{SizeName(session.HiddenSize)}/{Path.GetFileName(files.OnnxPath)}@{files.WeightsFingerprint()}";
            logger.LogInformation("Qwen3 embedder {ModelId}: dimension {Dimension}, {Interface}, {Provider}, max {MaxTokens} tokens.",
                modelId, options.Dimension, session.InterfaceDescription, session.ExecutionProvider, options.MaxTokens);
            return new QwenEmbedder(options, tokenizer, session, modelId);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct) => EmbedAsync(texts, ct);

    public async Task<float[]> EmbedQueryAsync(string query, CancellationToken ct) => (await EmbedAsync([FormatQuery(query)], ct))[0];

    /// <summary>Qwen3-Embedding's query instruction; no space after "Query:" (as the model was trained).</summary>
    public string FormatQuery(string query) => $"Instruct: {_options.QueryTask}\nQuery:{query}";

    private async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var span = CoreTelemetry.Source.StartActivity("embed");
        span?.SetTag("recommend.embedder.texts", texts.Count);
        var started = Stopwatch.GetTimestamp();
        var tokenized = texts.Select(t => Tokenizer.Encode(t ?? "", _options.MaxTokens)).ToArray();
        var vectors = new float[tokenized.Length][];
        var batches = LengthBatches.Plan(tokenized.Select(t => t.Length).ToArray(), _options.MaxBatchSize, _options.MaxPaddingRatio);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelBatches, CancellationToken = ct };
        await Parallel.ForEachAsync(batches, parallel, (batch, token) =>
        {
            var states = _session.LastTokenStates(batch.Select(i => tokenized[i]).ToArray(), token);
            for (var k = 0; k < batch.Length; k++) vectors[batch[k]] = TruncateAndNormalize(states[k], _options.Dimension);
            return ValueTask.CompletedTask;
        });
        CoreTelemetry.Embedded(Info.Name, texts.Count, tokenized.Sum(t => (long)t.Length), Stopwatch.GetElapsedTime(started));
        return vectors;
    }

    /// <summary>Matryoshka: keep the leading dimensions first, normalise second (the model was trained that way).</summary>
    internal static float[] TruncateAndNormalize(float[] state, int dimension)
    {
        var vector = state.AsSpan(0, dimension).ToArray();
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0 && float.IsFinite(norm)) TensorPrimitives.Divide(vector, norm, vector);
        else throw new InvalidOperationException($"The model produced a hidden state with norm {norm}; the weights are broken.");
        return vector;
    }

    private static string SizeName(int hiddenSize) => hiddenSize switch
    {
        1024 => "0.6b",
        2560 => "4b",
        4096 => "8b",
        _ => $"h{hiddenSize}",
    };

    public void Dispose() => _session.Dispose();
}
