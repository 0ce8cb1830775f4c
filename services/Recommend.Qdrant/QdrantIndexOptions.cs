namespace Recommend.Qdrant;

/// <summary>How <see cref="QdrantVectorIndex"/> reaches Qdrant and lays out each index version.</summary>
public sealed record QdrantIndexOptions
{
    /// <summary>Qdrant's gRPC endpoint (port 6334 by default), http:// for plain h2c or https://.</summary>
    public Uri Url { get; init; } = new("http://localhost:6334");

    /// <summary>Sent as the <c>api-key</c> header; null when the server runs without one.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Readers query this alias; each version is a collection named <c>{Alias}_{yyyyMMddHHmmssfff}</c>.</summary>
    public string Alias { get; init; } = "products";

    public uint ShardCount { get; init; } = 1;

    /// <summary>Copies of each shard in distributed mode; production runs ≥ 3 nodes with 2.</summary>
    public uint ReplicationFactor { get; init; } = 1;

    /// <summary>Keep original vectors on disk and page them in on demand (Qdrant memory placement "cold").</summary>
    public bool OnDiskVectors { get; init; }

    /// <summary>Scalar int8 quantisation kept in RAM: about 4× less memory for a small recall cost.</summary>
    public bool ScalarInt8Quantization { get; init; }

    /// <summary>Points per upsert request.</summary>
    public int UpsertBatchSize { get; init; } = 256;

    /// <summary>Per-attempt limit for reads and metadata calls; serving reads must stay inside the caller's deadline.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Limit for writes (upserts with wait, collection and alias changes), which may wait on indexing.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Extra attempts for idempotent reads after a transient failure.</summary>
    public int ReadRetries { get; init; } = 2;

    /// <summary>How long calls fail fast once the circuit breaker has opened.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Alias) || !Alias.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            throw new ArgumentException($"Alias '{Alias}' must be ASCII letters, digits, '_' or '-'.", nameof(Alias));
        ArgumentOutOfRangeException.ThrowIfZero(ShardCount, nameof(ShardCount));
        ArgumentOutOfRangeException.ThrowIfZero(ReplicationFactor, nameof(ReplicationFactor));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(UpsertBatchSize, nameof(UpsertBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(WriteTimeout, TimeSpan.Zero, nameof(WriteTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(ReadRetries, nameof(ReadRetries));
        ArgumentOutOfRangeException.ThrowIfLessThan(BreakDuration, TimeSpan.FromMilliseconds(500), nameof(BreakDuration));
    }
}
