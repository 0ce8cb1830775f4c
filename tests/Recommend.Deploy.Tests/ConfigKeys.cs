namespace Recommend.Deploy.Tests;

/// <summary>
/// The configuration keys the host and CLI read. Deployment files may only set these (as
/// environment variables, ':' written as '__'), so a typo cannot silently fall back to a default.
/// </summary>
public static class ConfigKeys
{
    public static readonly IReadOnlyList<string> All =
    [
        "Recommend:Listen",
        "Recommend:HttpListen",
        "Recommend:DataDirectory",
        "Recommend:SeedSample",
        "Recommend:Store:Provider",
        "ConnectionStrings:Postgres",
        "Recommend:VectorIndex:Provider",
        "Recommend:VectorIndex:Qdrant:Url",
        "Recommend:VectorIndex:Qdrant:ApiKey",
        "Recommend:VectorIndex:Qdrant:Alias",
        "Recommend:VectorIndex:Qdrant:ShardCount",
        "Recommend:VectorIndex:Qdrant:ReplicationFactor",
        "Recommend:VectorIndex:Qdrant:OnDiskVectors",
        "Recommend:VectorIndex:Qdrant:ScalarInt8Quantization",
        "Recommend:Embedder:ModelDirectory",
        "Recommend:Embedder:Dimension",
        "Recommend:Embedder:MaxTokens",
        "Recommend:Embedder:IntraOpThreads",
        "Recommend:Embedder:Precision",
        "Recommend:Embedder:UseCuda",
    ];

    public static string ToEnvName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    public static readonly IReadOnlySet<string> EnvNames = All.Select(ToEnvName).ToHashSet(StringComparer.Ordinal);

    public static readonly string Listen = ToEnvName("Recommend:Listen");
    public static readonly string HttpListen = ToEnvName("Recommend:HttpListen");
    public static readonly string QdrantUrl = ToEnvName("Recommend:VectorIndex:Qdrant:Url");
    public static readonly string ShardCount = ToEnvName("Recommend:VectorIndex:Qdrant:ShardCount");
    public static readonly string ReplicationFactor = ToEnvName("Recommend:VectorIndex:Qdrant:ReplicationFactor");
}
