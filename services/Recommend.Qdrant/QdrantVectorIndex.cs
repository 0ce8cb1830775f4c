using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Qdrant.Client;
using Qdrant.Client.Grpc;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;

namespace Recommend.Qdrant;

/// <summary>
/// <see cref="IVectorIndex"/> over Qdrant. Each version is its own collection (<c>{alias}_{yyyyMMddHHmmssfff}</c>,
/// cosine distance) whose spec and creation time live in Qdrant's collection metadata, so any replica of the
/// service sees the same versions without a side store. Readers query the alias; going live is one atomic
/// UpdateAliases request.
/// </summary>
public sealed class QdrantVectorIndex : IVectorIndex, IDisposable
{
    private const string ModelIdKey = "model_id";
    private const string DimensionKey = "dimension";
    private const string CreatedAtKey = "created_at";
    private const string VersionTimeFormat = "yyyyMMddHHmmssfff";

    private static readonly WithPayloadSelector ProductIdOnly = new() { Include = new PayloadIncludeSelector { Fields = { PayloadFields.ProductId } } };

    private readonly QdrantIndexOptions _options;
    private readonly QdrantClient _client;
    private readonly ResiliencePipelines _pipelines;
    private readonly ILogger _logger;
    private readonly Regex _versionName;
    private readonly Lock _clockLock = new();
    private DateTimeOffset _lastVersionTime = DateTimeOffset.MinValue;

    public QdrantVectorIndex(QdrantIndexOptions options, ILoggerFactory? loggerFactory = null)
    {
        options.Validate();
        _options = options;
        loggerFactory ??= NullLoggerFactory.Instance;
        // The client-wide deadline is only a backstop: the pipelines apply the tighter per-call limits.
        var deadline = options.WriteTimeout > options.Timeout ? options.WriteTimeout : options.Timeout;
        _client = new QdrantClient(options.Url, options.ApiKey, deadline, loggerFactory);
        _logger = loggerFactory.CreateLogger<QdrantVectorIndex>();
        _pipelines = new ResiliencePipelines(options, _logger);
        _versionName = new Regex($"^{Regex.Escape(options.Alias)}_[0-9]{{{VersionTimeFormat.Length}}}$", RegexOptions.CultureInvariant);
    }

    public string Backend => "qdrant";

    /// <summary>The collection readers see through the alias, or null before any version went live.</summary>
    private async Task<string?> LiveCollectionAsync(CancellationToken ct)
    {
        var aliases = await ReadAsync("list aliases", token => _client.ListAliasesAsync(token), ct);
        return aliases.FirstOrDefault(a => a.AliasName == _options.Alias)?.CollectionName;
    }

    public async Task<IndexVersion?> GetLiveVersionAsync(CancellationToken ct)
    {
        var live = await LiveCollectionAsync(ct);
        return live is null ? null : await DescribeAsync(live, isLive: true, ct);
    }

    public async Task<IReadOnlyList<IndexVersion>> ListVersionsAsync(CancellationToken ct)
    {
        var collections = await ReadAsync("list collections", token => _client.ListCollectionsAsync(token), ct);
        var live = await LiveCollectionAsync(ct);
        var versions = new List<IndexVersion>();
        foreach (var name in collections.Where(name => _versionName.IsMatch(name)))
        {
            try
            {
                versions.Add(await DescribeAsync(name, name == live, ct));
            }
            catch (KeyNotFoundException)
            {
                // Deleted between the listing and the lookup: it is no longer a version.
            }
        }
        return versions.OrderByDescending(v => v.CreatedAt).ThenByDescending(v => v.Name, StringComparer.Ordinal).ToList();
    }

    public async Task<IndexVersion> CreateVersionAsync(IndexSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.Dimension);
        while (true)
        {
            var createdAt = NextVersionTime();
            var name = $"{_options.Alias}_{createdAt.ToString(VersionTimeFormat, CultureInfo.InvariantCulture)}";
            try
            {
                await WriteAsync("create collection", token => _client.CreateCollectionAsync(NewCollection(name, spec, createdAt), token), ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
                continue; // another replica took this millisecond; the clock has moved on
            }
            await CreatePayloadIndexesAsync(name, ct);
            return new IndexVersion(name, spec, createdAt, IsLive: false);
        }
    }

    private CreateCollection NewCollection(string name, IndexSpec spec, DateTimeOffset createdAt)
    {
        var vectors = new VectorParams { Size = (ulong)spec.Dimension, Distance = Distance.Cosine };
        if (_options.OnDiskVectors)
            vectors.Memory = Memory.Cold;
        var request = new CreateCollection
        {
            CollectionName = name,
            VectorsConfig = new VectorsConfig { Params = vectors },
            ShardNumber = _options.ShardCount,
            ReplicationFactor = _options.ReplicationFactor,
            Metadata =
            {
                [ModelIdKey] = spec.ModelId,
                [DimensionKey] = spec.Dimension,
                [CreatedAtKey] = createdAt.ToString("O", CultureInfo.InvariantCulture),
            },
        };
        if (_options.ScalarInt8Quantization)
        {
            // Quantised vectors stay in RAM even when the originals are on disk: that is where the speed comes from.
            request.QuantizationConfig = new QuantizationConfig
            {
                Scalar = new ScalarQuantization { Type = QuantizationType.Int8, Memory = Memory.Cached },
            };
        }
        return request;
    }

    private async Task CreatePayloadIndexesAsync(string collection, CancellationToken ct)
    {
        try
        {
            foreach (var (field, type) in PayloadFields.Indexed)
            {
                await WriteAsync("create payload index",
                    token => _client.CreatePayloadIndexAsync(collection, field, type, wait: true, cancellationToken: token), ct);
            }
        }
        catch (Exception original)
        {
            // A version without its indexes would filter by full scan; do not leave it behind.
            try
            {
                await _client.DeleteCollectionAsync(collection, cancellationToken: CancellationToken.None);
            }
            catch (RpcException cleanup)
            {
                _logger.LogWarning(cleanup, "Could not remove {Collection} after its payload indexes failed ({Reason})", collection, original.Message);
            }
            throw;
        }
    }

    public async Task SetLiveVersionAsync(string version, CancellationToken ct)
    {
        RequireOwnVersion(version);
        var live = await LiveCollectionAsync(ct);
        if (live == version)
            return;
        var actions = new List<AliasOperations>();
        if (live is not null)
            actions.Add(new AliasOperations { DeleteAlias = new DeleteAlias { AliasName = _options.Alias } });
        actions.Add(new AliasOperations { CreateAlias = new CreateAlias { AliasName = _options.Alias, CollectionName = version } });
        try
        {
            await WriteAsync("switch alias", token => _client.UpdateAliasesAsync(actions, cancellationToken: token), ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            throw VersionNotFound(version, e);
        }
    }

    public async Task DeleteVersionAsync(string version, CancellationToken ct)
    {
        RequireOwnVersion(version);
        if (await LiveCollectionAsync(ct) == version)
            throw new InvalidOperationException($"Version '{version}' is live; make another version live before deleting it.");
        await DescribeAsync(version, isLive: false, ct); // missing version ⇒ KeyNotFoundException
        await WriteAsync("delete collection", token => _client.DeleteCollectionAsync(version, cancellationToken: token), ct);
    }

    public async Task UpsertAsync(string version, IReadOnlyList<VectorRecord> records, CancellationToken ct)
    {
        RequireOwnVersion(version);
        foreach (var batch in records.Chunk(_options.UpsertBatchSize))
        {
            var points = batch.Select(ToPoint).ToList();
            await OnVersionAsync(version, "upsert",
                () => WriteAsync("upsert", token => _client.UpsertAsync(version, points, wait: true, cancellationToken: token), ct));
        }
    }

    private static PointStruct ToPoint(VectorRecord record) => new()
    {
        Id = PointIds.ForProduct(record.ProductId),
        Vectors = record.Vector,
        Payload =
        {
            [PayloadFields.ProductId] = record.ProductId,
            [PayloadFields.Category] = record.Category,
            [PayloadFields.Price] = record.Price,
            [PayloadFields.InStock] = record.InStock,
            [PayloadFields.Title] = record.Title,
        },
    };

    public async Task DeleteAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        RequireOwnVersion(version);
        if (productIds.Count == 0)
            return;
        var ids = productIds.Select(PointIds.ForProduct).ToList();
        await OnVersionAsync(version, "delete points",
            () => WriteAsync("delete points", token => _client.DeleteAsync(version, ids, wait: true, cancellationToken: token), ct));
    }

    public async Task<long> CountAsync(string version, CancellationToken ct)
    {
        RequireOwnVersion(version);
        var count = await OnVersionAsync(version, "count",
            () => ReadAsync("count", token => _client.CountAsync(version, exact: true, cancellationToken: token), ct));
        return (long)count;
    }

    /// <summary>
    /// From the collection's status: green with indexed vectors is an HNSW index serving; green without is a collection
    /// below Qdrant's indexing threshold, searched exactly; yellow (optimising) and grey (optimisation pending) are
    /// an index being built; red (an optimiser failed) leaves unindexed segments, which Qdrant scans.
    /// </summary>
    public async Task<SearchIndexStatus> DescribeSearchAsync(string version, CancellationToken ct)
    {
        RequireOwnVersion(version);
        var info = await OnVersionAsync(version, "describe",
            () => ReadAsync("get collection", token => _client.GetCollectionInfoAsync(version, token), ct));
        var indexed = (long)info.IndexedVectorsCount;
        return info.Status switch
        {
            CollectionStatus.Green when indexed > 0 => new SearchIndexStatus(SearchIndexState.Ready, indexed),
            CollectionStatus.Yellow or CollectionStatus.Grey => new SearchIndexStatus(SearchIndexState.Building, indexed),
            _ => new SearchIndexStatus(SearchIndexState.Exact, indexed),
        };
    }

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(VectorQuery query, CancellationToken ct)
    {
        try
        {
            return await QueryAsync(_options.Alias, query, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return []; // no version is live yet
        }
    }

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(string version, VectorQuery query, CancellationToken ct)
    {
        RequireOwnVersion(version);
        try
        {
            return await QueryAsync(version, query, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            throw VersionNotFound(version, e);
        }
    }

    /// <summary>Queries a collection or the alias; Qdrant's NOT_FOUND is left to the caller, which knows what it means.</summary>
    private async Task<IReadOnlyList<VectorHit>> QueryAsync(string collection, VectorQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit <= 0)
            return [];
        IReadOnlyList<ScoredPoint> points;
        try
        {
            points = await ReadAsync("query", token => _client.QueryAsync(
                collection,
                query: query.Vector,
                filter: PayloadFields.ToQdrant(query.Filter),
                limit: (ulong)query.Limit,
                payloadSelector: ProductIdOnly,
                cancellationToken: token), ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            throw new ArgumentException($"Qdrant rejected the query: {e.Status.Detail}", nameof(query), e);
        }
        return points.Select(p => new VectorHit(p.Payload[PayloadFields.ProductId].StringValue, p.Score)).ToList();
    }

    public async Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        var (byPoint, points) = await RetrieveAsync(productIds, withVectors: true, ct);
        return points.ToDictionary(
            p => byPoint[Guid.Parse(p.Id.Uuid)],
            p => p.Vectors.Vector.Dense.Data.ToArray(),
            StringComparer.Ordinal);
    }

    /// <summary>
    /// One batch of queries, one per product, each confined to the points of <paramref name="among"/>: only the page's
    /// few products need an anchor, so this reads their vectors and not every anchor's (the port's default would copy a
    /// heavy customer's hundreds out of Qdrant a second time, after the profile). Ties go to whichever point Qdrant
    /// ranks first.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> NearestAmongAsync(
        IReadOnlyCollection<string> productIds, IReadOnlyCollection<string> among, CancellationToken ct)
    {
        var nearest = new Dictionary<string, string>(StringComparer.Ordinal);
        if (productIds.Count == 0 || among.Count == 0)
            return nearest;
        var vectors = (await GetVectorsAsync(productIds, ct)).ToList();
        if (vectors.Count == 0)
            return nearest;
        var amongOnly = new Filter
        {
            Must = { new Condition { HasId = new HasIdCondition { HasId = { among.Distinct(StringComparer.Ordinal).Select(id => (PointId)PointIds.ForProduct(id)) } } } },
        };
        var queries = vectors.Select(product => new QueryPoints
        {
            CollectionName = _options.Alias, Query = product.Value, Filter = amongOnly, Limit = 1, WithPayload = ProductIdOnly,
        }).ToList();
        var answers = await ReadAsync("query batch", token => _client.QueryBatchAsync(_options.Alias, queries, cancellationToken: token), ct);
        for (var i = 0; i < vectors.Count; i++)
        {
            if (answers[i].Result.Count > 0)
                nearest[vectors[i].Key] = answers[i].Result[0].Payload[PayloadFields.ProductId].StringValue;
        }
        return nearest;
    }

    public async Task<IReadOnlySet<string>> FindIndexedAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        var (byPoint, points) = await RetrieveAsync(productIds, withVectors: false, ct);
        return points.Select(p => byPoint[Guid.Parse(p.Id.Uuid)]).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The live version's points of <paramref name="productIds"/>, with the product each point id stands for.</summary>
    private async Task<(Dictionary<Guid, string> ByPoint, IReadOnlyList<RetrievedPoint> Points)> RetrieveAsync(
        IReadOnlyCollection<string> productIds, bool withVectors, CancellationToken ct)
    {
        var byPoint = productIds.Distinct(StringComparer.Ordinal).ToDictionary(PointIds.ForProduct, id => id);
        if (byPoint.Count == 0)
            return (byPoint, []);
        var ids = byPoint.Keys.Select(g => (PointId)g).ToList();
        try
        {
            return (byPoint, await ReadAsync("retrieve", token => _client.RetrieveAsync(
                _options.Alias, ids, withPayload: false, withVectors: withVectors, cancellationToken: token), ct));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return (byPoint, []); // no version is live yet
        }
    }

    /// <summary>Qdrant's own health probe (no api key needed); returns the server version. For readiness checks.</summary>
    public async Task<string> CheckHealthAsync(CancellationToken ct)
    {
        var reply = await ReadAsync("health check", token => _client.HealthAsync(token), ct);
        return reply.Version;
    }

    private async Task<IndexVersion> DescribeAsync(string collection, bool isLive, CancellationToken ct)
    {
        var info = await OnVersionAsync(collection, "describe",
            () => ReadAsync("get collection", token => _client.GetCollectionInfoAsync(collection, token), ct));
        var metadata = info.Config.Metadata;
        if (!metadata.TryGetValue(ModelIdKey, out var modelId) || !metadata.TryGetValue(CreatedAtKey, out var createdAt))
            throw new InvalidOperationException($"Collection '{collection}' has no index metadata; it was not created by this service.");
        var spec = new IndexSpec(modelId.StringValue, (int)info.Config.Params.VectorsConfig.Params.Size);
        var created = DateTimeOffset.ParseExact(createdAt.StringValue, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        return new IndexVersion(collection, spec, created, isLive);
    }

    /// <summary>Version names sort and never collide within this process, even for versions made in the same millisecond.</summary>
    private DateTimeOffset NextVersionTime()
    {
        var now = DateTimeOffset.UtcNow;
        now = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
        lock (_clockLock)
        {
            _lastVersionTime = now > _lastVersionTime ? now : _lastVersionTime.AddMilliseconds(1);
            return _lastVersionTime;
        }
    }

    private void RequireOwnVersion(string version)
    {
        if (!_versionName.IsMatch(version))
            throw new KeyNotFoundException($"'{version}' is not a version of index '{_options.Alias}'.");
    }

    private static async Task<T> OnVersionAsync<T>(string version, string operation, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            throw VersionNotFound(version, e);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            throw new ArgumentException($"Qdrant rejected {operation} on '{version}': {e.Status.Detail}", e);
        }
    }

    private static KeyNotFoundException VersionNotFound(string version, Exception inner) =>
        new($"Index version '{version}' does not exist.", inner);

    private Task<T> ReadAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct) =>
        RunAsync(_pipelines.Reads, operation, call, ct);

    private Task<T> WriteAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct) =>
        RunAsync(_pipelines.Writes, operation, call, ct);

    private Task WriteAsync(string operation, Func<CancellationToken, Task> call, CancellationToken ct) =>
        RunAsync(_pipelines.Writes, operation, async token => { await call(token); return true; }, ct);

    private async Task<T> RunAsync<T>(ResiliencePipeline pipeline, string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await pipeline.ExecuteAsync(static async (call, token) =>
            {
                try
                {
                    return await call(token);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && token.IsCancellationRequested)
                {
                    // gRPC reports cancellation as a status; Polly recognises a timeout (and callers a cancellation) by this type.
                    throw new OperationCanceledException(e.Status.Detail, e, token);
                }
            }, call, ct);
        }
        catch (Exception e) when (e is not VectorIndexUnavailableException && ResiliencePipelines.IsTransient(e))
        {
            throw new VectorIndexUnavailableException(operation, e);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            // This server's configuration is wrong, not the caller's request: the index is unavailable to it.
            throw new DependencyUnavailableException("vector index", "the vector index refused this server's credentials", e);
        }
        catch (RpcException e) when (e.StatusCode is not (StatusCode.NotFound or StatusCode.InvalidArgument or StatusCode.AlreadyExists or StatusCode.Cancelled))
        {
            // Qdrant's own status and text are not ours to pass on; the callers above handle the statuses they expect.
            throw new InvalidOperationException($"Qdrant failed {operation} with {e.StatusCode}", e);
        }
    }

    public void Dispose() => _client.Dispose();
}
