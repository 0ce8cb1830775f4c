using Recommend.Core.Ranking;
using Recommend.EmbeddedIndex;
using Recommend.Embeddings.Qwen;
using Recommend.Indexing;
using Recommend.Qdrant;
using Recommend.Training;

namespace Recommend.Composition;

/// <summary>The "Recommend" configuration section (environment: Recommend__Key__SubKey).</summary>
public sealed class RecommendOptions
{
    public const string Section = "Recommend";

    /// <summary>Address the plain HTTP/2 (h2c) gRPC endpoint listens on; port 0 picks a free port.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Address of the HTTP/1.1 endpoint: the JSON API (gRPC transcoding), the dashboard and /metrics. Plaintext
    /// Kestrel cannot serve HTTP/1.1 and h2c on one port, hence a second one.</summary>
    public string HttpListen { get; set; } = "http://127.0.0.1:5081";

    /// <summary>Where the embedded backends keep their files (SQLite database, vector index versions).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Load the bundled UCI sample when the catalog is empty. Set false to start empty and load your own.</summary>
    public bool SeedSample { get; set; } = true;

    public StoreOptions Store { get; set; } = new();

    public VectorIndexOptions VectorIndex { get; set; } = new();

    public EmbedderOptions Embedder { get; set; } = new();

    /// <summary>Re-indexing batch size, lease, versions kept for rollback (Recommend__Reindex__KeepPreviousVersions, ...).</summary>
    public ReindexOptions Reindex { get; set; } = new();

    /// <summary>The learned item-to-item model and when it is retrained (Recommend__Training__InHost, __Interval, ...).</summary>
    public TrainingOptions Training { get; set; } = new();

    /// <summary>The default ranking profile's weights.</summary>
    public RankingProfile Ranking { get; set; } = RankingProfile.Default;
}

public sealed class StoreOptions
{
    /// <summary>sqlite (embedded default) or postgres.</summary>
    public string Provider { get; set; } = "sqlite";
}

public sealed class VectorIndexOptions
{
    /// <summary>embedded (default) or qdrant.</summary>
    public string Provider { get; set; } = "embedded";

    /// <summary>Used when Provider is qdrant (Recommend__VectorIndex__Qdrant__Url, __ApiKey, __Alias, ...).</summary>
    public QdrantIndexOptions Qdrant { get; set; } = new();

    /// <summary>Used when Provider is embedded: graph precision, exact-scan thresholds, HNSW parameters (Recommend__VectorIndex__Embedded__Precision, ...).</summary>
    public EmbeddedIndexOptions Embedded { get; set; } = new();
}

/// <summary>
/// The Qwen3 embedder is used when <see cref="ModelDirectory"/> holds an ONNX export and tokenizer.json
/// (deploy/scripts/fetch-qwen3-embedding.sh fetches one); otherwise the hashing fallback serves, with a warning.
/// </summary>
public sealed class EmbedderOptions
{
    public string ModelDirectory { get; set; } = "models/qwen3-embedding-0.6b";

    /// <summary>
    /// Qwen3's default output dimension. Gorse's 2026 embedding benchmark found qwen3-embedding:0.6b best for
    /// recommendation at 256 (NDCG@10 0.149 against 0.144 at 1024), and 256 needs a quarter of the memory and graph
    /// build time at 1 M products (docs/benchmarks.md, "Scale").
    /// </summary>
    public const int DefaultQwenDimension = 256;

    /// <summary>Output dimension; unset = 256 for Qwen3 (Matryoshka: 32-1024 allowed) and for the fallback.</summary>
    public int? Dimension { get; set; }

    public int MaxTokens { get; set; } = 512;

    /// <summary>ONNX Runtime intra-op threads; 0 = all cores.</summary>
    public int IntraOpThreads { get; set; }

    public QwenPrecision Precision { get; set; } = QwenPrecision.Fp32;

    public bool UseCuda { get; set; }

    /// <summary>Task sentence of the search-query instruction.</summary>
    public string QueryTask { get; set; } = QwenEmbedderOptions.DefaultQueryTask;
}
