using System.Text.RegularExpressions;

namespace Recommend.Deploy.Tests;

/// <summary>
/// The configuration keys the host and CLI read. Deployment files may only set these (as
/// environment variables, ':' written as '__'), so a typo cannot silently fall back to a default.
/// <c>{i}</c> stands for a list index (0, 1, ...): configuration binds a list from numbered children.
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
        // API keys: KeyHash (lowercase hex SHA-256 of the key) or, for local stacks, the plaintext Key.
        ApiKeysPrefix + "{i}:Name",
        ApiKeysPrefix + "{i}:KeyHash",
        ApiKeysPrefix + "{i}:Key",
        ApiKeysPrefix + "{i}:Scopes:{i}",
        ApiKeysPrefix + "{i}:RequestsPerSecond",
        "Recommend:Auth:AllowAnonymous",
        "Recommend:Auth:EnableReflection",
        "Recommend:Auth:RateLimit:RequestsPerSecond",
        "Recommend:Auth:RateLimit:Burst",
        "Recommend:Tls:CertificatePath",
        "Recommend:Tls:KeyPath",
        "Recommend:Telemetry:OtlpEndpoint",
        "Recommend:Telemetry:JsonLogs",
        "Recommend:Training:InHost",
        "Recommend:Training:Interval",
        "Recommend:Training:MinNewPurchases",
        "Recommend:Training:CheckInterval",
        "Recommend:Training:Neighbours",
        "Recommend:Training:NegativeNeighbours",
        "Recommend:Training:Lambda",
        "Recommend:Training:MaxDenseItems",
        "Recommend:Training:KnnShrinkage",
        "Recommend:Training:MaxItemsPerUser",
        "Recommend:Training:Threads",
    ];

    public const string ApiKeysPrefix = "Recommend:Auth:ApiKeys:";

    /// <summary>The scopes an API key may carry.</summary>
    public static readonly IReadOnlySet<string> Scopes = new HashSet<string>(["storefront", "catalog", "experiments", "reports", "admin"], StringComparer.Ordinal);

    /// <summary>
    /// Environment variables the CLI reads directly; not configuration keys, so only client
    /// containers (Jobs running `recommend ... --server`) and the Secrets they read may use them.
    /// </summary>
    public static readonly IReadOnlySet<string> ClientEnvNames = new HashSet<string>(["RECOMMEND_API_KEY"], StringComparer.Ordinal);

    public static string ToEnvName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>Whether an environment variable name sets one of <see cref="All"/> (a list index matches <c>{i}</c>).</summary>
    public static bool IsEnvName(string name) => EnvNamePattern.IsMatch(name);

    private static readonly Regex EnvNamePattern = new(
        "^(?:" + string.Join("|", All.Select(k => Regex.Escape(ToEnvName(k)).Replace(@"\{i}", "(?:0|[1-9][0-9]*)", StringComparison.Ordinal))) + ")$",
        RegexOptions.CultureInvariant);

    public static readonly string ApiKeysEnvPrefix = ToEnvName(ApiKeysPrefix);

    public static readonly string Listen = ToEnvName("Recommend:Listen");
    public static readonly string HttpListen = ToEnvName("Recommend:HttpListen");
    public static readonly string QdrantUrl = ToEnvName("Recommend:VectorIndex:Qdrant:Url");
    public static readonly string ShardCount = ToEnvName("Recommend:VectorIndex:Qdrant:ShardCount");
    public static readonly string ReplicationFactor = ToEnvName("Recommend:VectorIndex:Qdrant:ReplicationFactor");
}
