namespace Recommend.Embeddings.Qwen;

public enum QwenPrecision
{
    /// <summary><c>model.onnx</c> (usually with <c>model.onnx_data</c>): the reference weights.</summary>
    Fp32,
    /// <summary><c>model_quantized.onnx</c>: dynamic int8, about 1.5× faster on CPU, cosine ≈ 0.99 to fp32.</summary>
    Int8,
}

/// <summary>Configuration of <see cref="QwenEmbedder"/>.</summary>
public sealed record QwenEmbedderOptions
{
    public const int MinDimension = 32;
    public const int MaxDimension = 1024;
    public const string DefaultQueryTask = "Given a shopping search query, retrieve the products that match it";

    /// <summary>Holds <c>tokenizer.json</c> and the ONNX file, directly or under <c>onnx/</c> as Hugging Face repositories do.</summary>
    public required string ModelDirectory { get; init; }

    public QwenPrecision Precision { get; init; } = QwenPrecision.Fp32;

    /// <summary>Output size: the first <c>Dimension</c> values are kept (Matryoshka), then L2-normalised.</summary>
    public int Dimension { get; init; } = MaxDimension;

    /// <summary>Token budget per text including the end token; longer texts are truncated, not rejected.</summary>
    public int MaxTokens { get; init; } = 512;

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime use every core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Try the CUDA execution provider; without it (CPU-only package, no GPU) the CPU is used and a line is logged.</summary>
    public bool UseCuda { get; init; }

    /// <summary>Task sentence of the query instruction: <c>Instruct: {task}\nQuery:{query}</c>.</summary>
    public string QueryTask { get; init; } = DefaultQueryTask;

    /// <summary>Most texts per ONNX Runtime call.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>
    /// A batch is closed before its longest text exceeds this multiple of its shortest (texts are sorted by length), so
    /// padding stays bounded: padded tokens cost as much as real ones.
    /// </summary>
    public double MaxPaddingRatio { get; init; } = 1.25;

    /// <summary>Batches run at once; 1 leaves all cores to ONNX Runtime's own intra-op threads, which is faster on CPU.</summary>
    public int MaxParallelBatches { get; init; } = 1;

    internal void Validate()
    {
        if (Dimension is < MinDimension or > MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, $"must be between {MinDimension} and {MaxDimension}");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTokens, 2, nameof(MaxTokens));
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads, nameof(IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPaddingRatio, 1.0, nameof(MaxPaddingRatio));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxParallelBatches, 1, nameof(MaxParallelBatches));
        ArgumentException.ThrowIfNullOrWhiteSpace(QueryTask, nameof(QueryTask));
    }
}
