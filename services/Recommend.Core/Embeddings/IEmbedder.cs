namespace Recommend.Core.Embeddings;

/// <summary>Port: turns text into L2-normalised vectors. Implemented by the Qwen3 ONNX embedder and the hashing fallback.</summary>
public interface IEmbedder
{
    /// <summary>Model identity and output dimension; stored with every index version built from this embedder.</summary>
    EmbedderInfo Info { get; }

    /// <summary>Embeds product texts as documents (no instruction prefix). One vector per text, same order.</summary>
    Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct);

    /// <summary>Embeds a search query (with the model's query instruction where it has one).</summary>
    Task<float[]> EmbedQueryAsync(string query, CancellationToken ct);
}

/// <param name="Name">Embedder kind, e.g. "qwen3-onnx" or "hashing-fallback".</param>
/// <param name="ModelId">Identifies the weights, so vectors of different models are never mixed.</param>
public sealed record EmbedderInfo(string Name, string ModelId, int Dimension)
{
    public Vectors.IndexSpec Spec => new(ModelId, Dimension);
}
