using Google.Protobuf.Collections;
using Grpc.Core;
using Qdrant.Client.Grpc;

namespace Recommend.Testing.Qdrant;

/// <summary>
/// The collections, aliases and points of the Qdrant test double, with Qdrant's semantics and status codes:
/// aliases resolve wherever a collection name is read, cosine collections store normalised vectors, missing
/// collections are NOT_FOUND and malformed input INVALID_ARGUMENT. One lock keeps every request atomic.
/// </summary>
public sealed class FakeQdrantState
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FakeCollection> _collections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private ulong _operationId;

    /// <summary>Held before every answer, to play an overloaded or black-holed server.</summary>
    public TimeSpan ResponseDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Collections with at least this many points report them indexed, as Qdrant builds HNSW above its indexing threshold.</summary>
    public int IndexingThreshold { get; set; } = 20_000;

    /// <summary>Plays an optimiser building the collection's index: yellow, nothing indexed yet.</summary>
    public void SetOptimizing(string collection, bool optimizing)
    {
        lock (_lock)
            Get(collection).Optimizing = optimizing;
    }

    /// <summary>Indexes the adapter asked for, per collection: field → type.</summary>
    public IReadOnlyDictionary<string, PayloadSchemaType> PayloadIndexes(string collection)
    {
        lock (_lock)
            return new Dictionary<string, PayloadSchemaType>(Get(collection).PayloadIndexes);
    }

    public CollectionOperationResponse Create(CreateCollection request)
    {
        var vectors = request.VectorsConfig?.Params
            ?? throw Invalid("the test double supports one unnamed dense vector per collection");
        if (vectors.Size == 0)
            throw Invalid("Vector size must be greater than 0");
        lock (_lock)
        {
            if (_collections.ContainsKey(request.CollectionName) || _aliases.ContainsKey(request.CollectionName))
                throw new RpcException(new Status(StatusCode.AlreadyExists, $"Wrong input: Collection `{request.CollectionName}` already exists!"));
            _collections[request.CollectionName] = new FakeCollection(request.Clone(), DateTime.UtcNow);
        }
        return new CollectionOperationResponse { Result = true };
    }

    public GetCollectionInfoResponse Describe(GetCollectionInfoRequest request)
    {
        lock (_lock)
        {
            var collection = Get(request.CollectionName);
            var config = collection.Config;
            var info = new CollectionInfo
            {
                Status = collection.Optimizing ? CollectionStatus.Yellow : CollectionStatus.Green,
                PointsCount = (ulong)collection.Points.Count,
                IndexedVectorsCount = !collection.Optimizing && collection.Points.Count >= IndexingThreshold ? (ulong)collection.Points.Count : 0,
                CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(collection.CreatedAt),
                Config = new CollectionConfig
                {
                    Params = new CollectionParams
                    {
                        ShardNumber = config.HasShardNumber ? config.ShardNumber : 1,
                        ReplicationFactor = config.HasReplicationFactor ? config.ReplicationFactor : 1,
                        VectorsConfig = config.VectorsConfig,
                    },
                    QuantizationConfig = config.QuantizationConfig,
                    Metadata = { config.Metadata },
                },
            };
            foreach (var (field, type) in collection.PayloadIndexes)
                info.PayloadSchema[field] = new PayloadSchemaInfo { DataType = type, Points = (ulong)collection.Points.Count };
            return new GetCollectionInfoResponse { Result = info };
        }
    }

    public ListCollectionsResponse List()
    {
        lock (_lock)
            return new ListCollectionsResponse { Collections = { _collections.Keys.Select(n => new CollectionDescription { Name = n }) } };
    }

    /// <summary>Like Qdrant: deleting a missing collection is not an error but reports false; its aliases go with it.</summary>
    public CollectionOperationResponse Delete(DeleteCollection request)
    {
        lock (_lock)
        {
            var removed = _collections.Remove(request.CollectionName);
            foreach (var alias in _aliases.Where(a => a.Value == request.CollectionName).Select(a => a.Key).ToList())
                _aliases.Remove(alias);
            return new CollectionOperationResponse { Result = removed };
        }
    }

    /// <summary>All actions apply in order on a copy; the copy replaces the aliases only if every action succeeded.</summary>
    public CollectionOperationResponse UpdateAliases(ChangeAliases request)
    {
        lock (_lock)
        {
            var next = new Dictionary<string, string>(_aliases, StringComparer.Ordinal);
            foreach (var action in request.Actions)
            {
                switch (action.ActionCase)
                {
                    case AliasOperations.ActionOneofCase.CreateAlias:
                        var create = action.CreateAlias;
                        if (!_collections.ContainsKey(create.CollectionName))
                            throw NotFound(create.CollectionName);
                        if (_collections.ContainsKey(create.AliasName))
                            throw new RpcException(new Status(StatusCode.AlreadyExists, $"Wrong input: Collection `{create.AliasName}` already exists!"));
                        next[create.AliasName] = create.CollectionName;
                        break;
                    case AliasOperations.ActionOneofCase.DeleteAlias:
                        if (!next.Remove(action.DeleteAlias.AliasName))
                            throw new RpcException(new Status(StatusCode.NotFound, $"Not found: Alias {action.DeleteAlias.AliasName} does not exists!"));
                        break;
                    default:
                        throw Unimplemented($"alias action {action.ActionCase}");
                }
            }
            _aliases.Clear();
            foreach (var (alias, collection) in next)
                _aliases[alias] = collection;
        }
        return new CollectionOperationResponse { Result = true };
    }

    public ListAliasesResponse ListAliases()
    {
        lock (_lock)
            return new ListAliasesResponse
            {
                Aliases = { _aliases.Select(a => new AliasDescription { AliasName = a.Key, CollectionName = a.Value }) },
            };
    }

    public PointsOperationResponse Upsert(UpsertPoints request)
    {
        lock (_lock)
        {
            var collection = Get(request.CollectionName);
            // Validate the whole batch first: Qdrant applies a batch entirely or not at all.
            var points = request.Points.Select(p => new FakePoint(
                PointKeys.Canonical(p.Id),
                collection.Normalise(DenseVector(p.Vectors)),
                p.Payload.Clone())).ToList();
            foreach (var point in points)
                collection.Points[PointKeys.Of(point.Id)] = point;
            return Completed();
        }
    }

    public PointsOperationResponse DeletePoints(DeletePoints request)
    {
        lock (_lock)
        {
            var collection = Get(request.CollectionName);
            var selector = request.Points;
            var doomed = selector.PointsSelectorOneOfCase switch
            {
                PointsSelector.PointsSelectorOneOfOneofCase.Points => selector.Points.Ids.Select(PointKeys.Of).ToList(),
                PointsSelector.PointsSelectorOneOfOneofCase.Filter => collection.Points
                    .Where(p => PayloadFilter.Matches(selector.Filter, p.Key, p.Value.Payload)).Select(p => p.Key).ToList(),
                _ => throw Invalid("empty points selector"),
            };
            foreach (var key in doomed)
                collection.Points.Remove(key);
            return Completed();
        }
    }

    public GetResponse GetPoints(GetPoints request)
    {
        lock (_lock)
        {
            var collection = Get(request.CollectionName);
            var response = new GetResponse();
            foreach (var key in request.Ids.Select(PointKeys.Of).Distinct())
            {
                if (!collection.Points.TryGetValue(key, out var point))
                    continue;
                var retrieved = new RetrievedPoint { Id = point.Id.Clone() };
                retrieved.Payload.Add(SelectPayload(request.WithPayload, point.Payload));
                if (WantsVectors(request.WithVectors))
                    retrieved.Vectors = VectorsOutputOf(point.Vector);
                response.Result.Add(retrieved);
            }
            return response;
        }
    }

    public QueryResponse Query(QueryPoints request)
    {
        if (request.Prefetch.Count > 0 || request.HasUsing || request.LookupFrom is not null)
            throw Unimplemented("prefetch, named vectors and lookup_from");
        if (request.Query?.VariantCase != global::Qdrant.Client.Grpc.Query.VariantOneofCase.Nearest
            || request.Query.Nearest.VariantCase != VectorInput.VariantOneofCase.Dense)
            throw Unimplemented("queries other than nearest to a dense vector");
        lock (_lock)
        {
            var collection = Get(request.CollectionName);
            var query = collection.Normalise(request.Query.Nearest.Dense.Data.ToArray());
            var limit = request.HasLimit ? (int)request.Limit : 10;
            var offset = request.HasOffset ? (int)request.Offset : 0;
            var scored = collection.Points
                .Where(p => PayloadFilter.Matches(request.Filter, p.Key, p.Value.Payload))
                .Select(p => (Point: p.Value, Score: Dot(query, p.Value.Vector)))
                .Where(s => !request.HasScoreThreshold || s.Score >= request.ScoreThreshold)
                .OrderByDescending(s => s.Score)
                .ThenBy(s => PointKeys.Of(s.Point.Id), StringComparer.Ordinal)
                .Skip(offset)
                .Take(limit);
            var response = new QueryResponse();
            foreach (var (point, score) in scored)
            {
                var hit = new ScoredPoint { Id = point.Id.Clone(), Score = score };
                hit.Payload.Add(SelectPayload(request.WithPayload, point.Payload));
                if (WantsVectors(request.WithVectors))
                    hit.Vectors = VectorsOutputOf(point.Vector);
                response.Result.Add(hit);
            }
            return response;
        }
    }

    /// <summary>Each query answered as <see cref="Query"/> answers it, in order, against the batch's collection.</summary>
    public QueryBatchResponse QueryBatch(QueryBatchPoints request)
    {
        var response = new QueryBatchResponse();
        foreach (var query in request.QueryPoints)
        {
            var single = query.Clone();
            single.CollectionName = request.CollectionName;
            response.Result.Add(new BatchResult { Result = { Query(single).Result } });
        }
        return response;
    }

    public CountResponse Count(CountPoints request)
    {
        lock (_lock)
        {
            var collection = Get(request.CollectionName);
            var count = collection.Points.Count(p => PayloadFilter.Matches(request.Filter, p.Key, p.Value.Payload));
            return new CountResponse { Result = new CountResult { Count = (ulong)count } };
        }
    }

    public PointsOperationResponse CreateFieldIndex(CreateFieldIndexCollection request)
    {
        if (!request.HasFieldType)
            throw Invalid("field_type is required");
        lock (_lock)
        {
            Get(request.CollectionName).PayloadIndexes[request.FieldName] = request.FieldType switch
            {
                FieldType.Keyword => PayloadSchemaType.Keyword,
                FieldType.Integer => PayloadSchemaType.Integer,
                FieldType.Float => PayloadSchemaType.Float,
                FieldType.Bool => PayloadSchemaType.Bool,
                _ => throw Unimplemented($"payload index type {request.FieldType}"),
            };
            return Completed();
        }
    }

    private PointsOperationResponse Completed() =>
        new() { Result = new UpdateResult { OperationId = ++_operationId, Status = UpdateStatus.Completed } };

    /// <summary>Resolves an alias first, as Qdrant does for every read and write addressed to a collection.</summary>
    private FakeCollection Get(string name)
    {
        var resolved = _aliases.GetValueOrDefault(name, name);
        return _collections.TryGetValue(resolved, out var collection) ? collection : throw NotFound(name);
    }

    private static float[] DenseVector(Vectors? vectors)
    {
        if (vectors?.VectorsOptionsCase != Vectors.VectorsOptionsOneofCase.Vector
            || vectors.Vector.VectorCase != Vector.VectorOneofCase.Dense)
            throw Invalid("the test double stores one unnamed dense vector per point");
        return vectors.Vector.Dense.Data.ToArray();
    }

    private static MapField<string, Value> SelectPayload(WithPayloadSelector? selector, MapField<string, Value> payload)
    {
        var selected = new MapField<string, Value>();
        switch (selector?.SelectorOptionsCase)
        {
            case WithPayloadSelector.SelectorOptionsOneofCase.Enable when selector.Enable:
                selected.Add(payload);
                break;
            case WithPayloadSelector.SelectorOptionsOneofCase.Include:
                foreach (var field in selector.Include.Fields.Where(payload.ContainsKey))
                    selected[field] = payload[field];
                break;
            case WithPayloadSelector.SelectorOptionsOneofCase.Exclude:
                foreach (var (field, value) in payload.Where(p => !selector.Exclude.Fields.Contains(p.Key)))
                    selected[field] = value;
                break;
        }
        return selected;
    }

    private static bool WantsVectors(WithVectorsSelector? selector) =>
        selector?.SelectorOptionsCase == WithVectorsSelector.SelectorOptionsOneofCase.Enable && selector.Enable;

    private static VectorsOutput VectorsOutputOf(float[] vector) =>
        new() { Vector = new VectorOutput { Dense = new DenseVector { Data = { vector } } } };

    private static float Dot(float[] a, float[] b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }

    private static RpcException NotFound(string collection) =>
        new(new Status(StatusCode.NotFound, $"Not found: Collection `{collection}` doesn't exist!"));

    internal static RpcException Invalid(string detail) =>
        new(new Status(StatusCode.InvalidArgument, $"Wrong input: {detail}"));

    private static RpcException Unimplemented(string what) =>
        new(new Status(StatusCode.Unimplemented, $"The Qdrant test double does not implement {what}."));

    private sealed record FakePoint(PointId Id, float[] Vector, MapField<string, Value> Payload);

    private sealed class FakeCollection(CreateCollection config, DateTime createdAt)
    {
        public CreateCollection Config { get; } = config;
        public DateTime CreatedAt { get; } = createdAt;
        public Dictionary<string, FakePoint> Points { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, PayloadSchemaType> PayloadIndexes { get; } = new(StringComparer.Ordinal);

        public bool Optimizing { get; set; }

        /// <summary>Cosine collections keep unit vectors, so cosine is a dot product and reads return normalised vectors.</summary>
        public float[] Normalise(float[] vector)
        {
            var expected = Config.VectorsConfig.Params.Size;
            if ((ulong)vector.Length != expected)
                throw Invalid($"Vector dimension error: expected dim: {expected}, got {vector.Length}");
            if (Config.VectorsConfig.Params.Distance != Distance.Cosine)
                return vector;
            var norm = MathF.Sqrt(vector.Sum(x => x * x));
            return norm == 0 ? vector : vector.Select(x => x / norm).ToArray();
        }
    }
}
