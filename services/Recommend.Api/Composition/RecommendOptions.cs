using Recommend.Core.Ranking;
using Recommend.Qdrant;

namespace Recommend.Api.Composition;

/// <summary>The "Recommend" configuration section (environment: Recommend__Key__SubKey).</summary>
public sealed class RecommendOptions
{
    public const string Section = "Recommend";

    /// <summary>Address the plain HTTP/2 (h2c) gRPC endpoint listens on; port 0 picks a free port.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Where the embedded backends keep their files (SQLite database, vector index versions).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Load the bundled UCI sample when the catalog is empty. Set false to start empty and load your own.</summary>
    public bool SeedSample { get; set; } = true;

    public StoreOptions Store { get; set; } = new();

    public VectorIndexOptions VectorIndex { get; set; } = new();

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
}
