using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex.Graph;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// <see cref="IVectorIndex"/> in-process: each version persisted in its own directory as a manifest plus an fsynced
/// record log, held in memory as exact rows while it is live or being written, and searched through an HNSW graph
/// once it is large enough. Versions kept for rollback stay on disk until used (<see cref="VersionSlot"/>). A small
/// "live" file names the version readers use; it is replaced atomically on disk and the in-memory reference is
/// swapped atomically, so readers never see a half switch. One instance owns its directory (enforced with a lock
/// file); dispose it only after calls on it have finished.
/// </summary>
/// <remarks>
/// Layout: <c>live</c>, <c>.lock</c>, <c>versions/v{n}/manifest.json</c>, <c>versions/v{n}/records.log</c>, and the
/// derived <c>versions/v{n}/graph.*</c>. Searches are planned per query: exact scan for small versions and for
/// filters that match few products, the graph otherwise, and an exact scan again when the graph finds fewer
/// results than asked for, so a filter never returns fewer products than exist.
/// </remarks>
public sealed class EmbeddedVectorIndex : IVectorIndex, IDisposable
{
    private const string LockFileName = ".lock";
    private const string LivePointerFileName = "live";
    private const string VersionsDirectoryName = "versions";

    private readonly string _versionsDirectory;
    private readonly string _livePointerPath;
    private readonly FileStream _ownership;
    private readonly EmbeddedIndexOptions _options;
    private readonly VersionPolicy _policy;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, VersionSlot> _versions;
    // Serialises changes to the set of versions and to the live pointer; searches never take it.
    private readonly Lock _catalogGate = new();
    private VersionSlot? _live;
    private long _lastSequence;
    private bool _disposed;

    private EmbeddedVectorIndex(
        string directory, FileStream ownership, EmbeddedIndexOptions options, VersionPolicy policy, ILogger logger,
        ConcurrentDictionary<string, VersionSlot> versions, VersionSlot? live)
    {
        DirectoryPath = directory;
        _options = options;
        _policy = policy;
        _logger = logger;
        _versionsDirectory = Path.Combine(directory, VersionsDirectoryName);
        _livePointerPath = Path.Combine(directory, LivePointerFileName);
        _ownership = ownership;
        _versions = versions;
        _live = live;
        _lastSequence = versions.Values.Select(v => v.Manifest.Sequence).DefaultIfEmpty(0).Max();
    }

    public string Backend => "embedded";

    public string DirectoryPath { get; }

    /// <summary>Opens (or creates) the index in <paramref name="directory"/>, loading the live version and counting the others.</summary>
    /// <exception cref="IOException">Another instance already has the directory open.</exception>
    public static EmbeddedVectorIndex Open(string directory, EmbeddedIndexOptions? options = null, ILogger? logger = null)
    {
        options ??= new EmbeddedIndexOptions();
        logger ??= NullLogger.Instance;
        var policy = options.ToPolicy();
        var root = Path.GetFullPath(directory);
        var versionsDirectory = Path.Combine(root, VersionsDirectoryName);
        Directory.CreateDirectory(versionsDirectory);
        var ownership = TakeOwnership(root);
        var versions = new ConcurrentDictionary<string, VersionSlot>(StringComparer.Ordinal);
        try
        {
            var liveName = ReadLivePointer(root);
            foreach (var versionDirectory in Directory.EnumerateDirectories(versionsDirectory))
            {
                if (!File.Exists(Path.Combine(versionDirectory, VersionManifest.FileName)))
                {
                    // A creation or deletion that crashed part-way; neither left anything a caller may rely on.
                    Directory.Delete(versionDirectory, recursive: true);
                    continue;
                }
                var version = VersionSlot.Open(versionDirectory, policy, logger, resident: Path.GetFileName(versionDirectory) == liveName);
                versions[version.Manifest.Name] = version;
            }
            VersionSlot? live = null;
            if (liveName is not null && !versions.TryGetValue(liveName, out live))
                throw new InvalidDataException($"The live pointer in {root} names version '{liveName}', which has no manifest.");
            if (live is not null) live.HasBeenLive = true;
            return new EmbeddedVectorIndex(root, ownership, options, policy, logger, versions, live);
        }
        catch
        {
            foreach (var version in versions.Values)
                version.Dispose();
            ownership.Dispose();
            throw;
        }
    }

    public Task<IndexVersion?> GetLiveVersionAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return Task.FromResult(Volatile.Read(ref _live)?.Manifest.ToIndexVersion(isLive: true));
    }

    public Task<IReadOnlyList<IndexVersion>> ListVersionsAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var live = Volatile.Read(ref _live);
        IReadOnlyList<IndexVersion> versions = _versions.Values
            .OrderByDescending(v => v.Manifest.Sequence)
            .Select(v => v.Manifest.ToIndexVersion(isLive: ReferenceEquals(v, live)))
            .ToList();
        return Task.FromResult(versions);
    }

    public Task<IndexVersion> CreateVersionAsync(IndexSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.ModelId, nameof(spec));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.Dimension, nameof(spec));
        ct.ThrowIfCancellationRequested();
        lock (_catalogGate)
        {
            ThrowIfDisposed();
            var sequence = ++_lastSequence;
            var manifest = new VersionManifest($"v{sequence}", sequence, spec.ModelId, spec.Dimension, DateTimeOffset.UtcNow, _options.Precision);
            var version = VersionSlot.Create(Path.Combine(_versionsDirectory, manifest.Name), manifest, _policy, _logger);
            _versions[manifest.Name] = version;
            return Task.FromResult(manifest.ToIndexVersion(isLive: false));
        }
    }

    /// <summary>
    /// Loads the version if it is on disk only (a rollback) and waits for its graph when it needs one, so the switch
    /// never leaves readers scanning. The version replaced, and any other that has been live, leave memory after it.
    /// </summary>
    public async Task SetLiveVersionAsync(string version, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        await Find(version).Resident().Graph.WhenReadyAsync(ct);
        lock (_catalogGate)
        {
            var target = Find(version);
            target.Resident();
            // On disk first: once this returns, a restart comes back on the new version.
            AtomicFile.WriteAllBytes(_livePointerPath, Encoding.UTF8.GetBytes(target.Manifest.Name));
            target.HasBeenLive = true;
            Volatile.Write(ref _live, target);
            // A version newer than the target that was never live is a re-index still being written: it stays.
            // Under the gate, so no other switch can make one of them live meanwhile; searches never take the gate.
            foreach (var old in _versions.Values.Where(v => !ReferenceEquals(v, target) && (v.HasBeenLive || v.Manifest.Sequence < target.Manifest.Sequence)))
                old.Release();
        }
    }

    public Task DeleteVersionAsync(string version, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        lock (_catalogGate)
        {
            var target = Find(version);
            if (ReferenceEquals(target, _live))
                throw new InvalidOperationException($"Index version '{version}' is live; make another version live before deleting it.");
            _versions.TryRemove(version, out _);
            target.Drop();
        }
        return Task.CompletedTask;
    }

    public Task UpsertAsync(string version, IReadOnlyList<VectorRecord> records, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(records);
        ct.ThrowIfCancellationRequested();
        Write(version, stored => stored.Upsert(records));
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(productIds);
        ct.ThrowIfCancellationRequested();
        Write(version, stored => stored.Delete(productIds));
        return Task.CompletedTask;
    }

    /// <summary>Counts without loading: a version kept for rollback knows its count from disk.</summary>
    public Task<long> CountAsync(string version, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(Find(version).Count);
    }

    public Task<IReadOnlyList<VectorHit>> SearchAsync(VectorQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Limit, nameof(query));
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        // Read the live reference once: the whole search runs against that version even if it is switched meanwhile.
        var live = Volatile.Read(ref _live);
        return Task.FromResult(live is null ? [] : Search(live.Resident(), query));
    }

    public Task<IReadOnlyList<VectorHit>> SearchAsync(string version, VectorQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Limit, nameof(query));
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(Search(Find(version).Resident(), query));
    }

    private IReadOnlyList<VectorHit> Search(StoredVersion version, VectorQuery query)
    {
        if (query.Vector.Length != version.Manifest.Dimension)
            throw new ArgumentException(
                $"The index version '{version.Manifest.Name}' holds vectors of dimension {version.Manifest.Dimension}; the query has {query.Vector.Length}.",
                nameof(query));
        var unitQuery = UnitVector.Normalise(query.Vector, nameof(query));
        var (rows, filter, limit) = (version.Rows, query.Filter, query.Limit);
        // Read once: a switch may release the version (and its graph) while this search runs.
        var graph = version.Graph.Ready;
        var plan = Plan(rows, graph, filter);
        return plan switch
        {
            SearchPlan.CategoryScan => rows.SearchCategories(unitQuery, limit, filter.Categories, filter),
            SearchPlan.Graph => SearchGraphUnlessReleased(rows, graph!, unitQuery, limit, filter)
                // Fewer than asked: maybe all there are, maybe a walk that missed some. Only a scan can tell.
                ?? (filter.Categories.Count > 0 ? rows.SearchCategories(unitQuery, limit, filter.Categories, filter) : rows.Search(unitQuery, limit, filter)),
            _ => rows.Search(unitQuery, limit, filter),
        };
    }

    /// <summary>Null, as for a walk that found too few, when the graph was released meanwhile: the rows still answer.</summary>
    private IReadOnlyList<VectorHit>? SearchGraphUnlessReleased(VectorMatrix rows, ReadyGraph graph, float[] unitQuery, int limit, ProductFilter filter)
    {
        try
        {
            return rows.SearchGraph(graph, unitQuery, limit, limit * _options.Oversample, filter);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>How a query on rows with <paramref name="graph"/> is answered; exposed so tests can pin each path.</summary>
    internal SearchPlan Plan(VectorMatrix rows, ReadyGraph? graph, ProductFilter filter)
    {
        if (graph is null || rows.Count < _options.ExactSearchBelow)
            return SearchPlan.FullScan;
        if (filter.Categories.Count > 0 && rows.CountInCategories(filter.Categories) < _options.ExactFilterBelow)
            return SearchPlan.CategoryScan;
        // A price or stock filter may pass almost nothing, and a graph walk would then visit most of the graph.
        if ((filter.MinPrice is not null || filter.MaxPrice is not null || filter.InStockOnly)
            && rows.EstimateMatches(filter, samples: 512) < _options.ExactFilterBelow)
            return filter.Categories.Count > 0 ? SearchPlan.CategoryScan : SearchPlan.FullScan;
        return SearchPlan.Graph;
    }

    internal SearchPlan PlanLive(ProductFilter filter)
    {
        var live = Volatile.Read(ref _live)?.Resident() ?? throw new InvalidOperationException("no live version");
        return Plan(live.Rows, live.Graph.Ready, filter);
    }

    /// <summary>The graph of <paramref name="version"/> as searches see it, for tests.</summary>
    internal VersionGraph GraphOf(string version) => Find(version).Resident().Graph;

    /// <summary>Whether <paramref name="version"/> is held in memory now, for tests and status.</summary>
    public bool IsResident(string version) => Find(version).IsResident;

    /// <summary>Whether <paramref name="version"/> is searched through a graph yet, and how many vectors the graph holds.</summary>
    public GraphStatus DescribeGraph(string version) =>
        Find(version).Loaded is { } loaded ? Describe(loaded.Graph) : new GraphStatus(GraphState.None, 0);

    public Task<SearchIndexStatus> DescribeSearchAsync(string version, CancellationToken ct)
    {
        if (Find(version).Loaded is not { } loaded) return Task.FromResult(new SearchIndexStatus(SearchIndexState.OnDisk, 0));
        var graph = Describe(loaded.Graph);
        return Task.FromResult(graph.State switch
        {
            GraphState.Ready => new SearchIndexStatus(SearchIndexState.Ready, graph.Vectors),
            GraphState.Building => new SearchIndexStatus(SearchIndexState.Building, 0),
            _ => new SearchIndexStatus(SearchIndexState.Exact, 0),
        });
    }

    private static GraphStatus Describe(VersionGraph graph) =>
        graph.Ready is { } ready
            ? new GraphStatus(GraphState.Ready, ready.Keys.Count)
            : new GraphStatus(graph.IsBuilding ? GraphState.Building : GraphState.None, 0);

    /// <summary>Completes once <paramref name="version"/> has the graph it needs (at once for small versions).</summary>
    public Task WaitForGraphAsync(string version, CancellationToken ct) => Find(version).Resident().Graph.WhenReadyAsync(ct);

    public Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(productIds);
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var live = Volatile.Read(ref _live);
        IReadOnlyDictionary<string, float[]> vectors = live is null
            ? new Dictionary<string, float[]>()
            : live.Resident().Rows.GetVectors(productIds);
        return Task.FromResult(vectors);
    }

    public Task<IReadOnlySet<string>> FindIndexedAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(productIds);
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var live = Volatile.Read(ref _live)?.Resident();
        return Task.FromResult(live is null ? new HashSet<string>() : live.Rows.Present(productIds));
    }

    public Task<IReadOnlyList<VectorHit>> ScoreAsync(float[] unitVector, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(unitVector);
        ArgumentNullException.ThrowIfNull(productIds);
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var live = Volatile.Read(ref _live)?.Resident();
        return Task.FromResult(live is null || live.Manifest.Dimension != unitVector.Length ? [] : live.Rows.Score(unitVector, productIds));
    }

    public Task<float[]?> WeightedMeanAsync(IReadOnlyDictionary<string, double> weights, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return Task.FromResult(Volatile.Read(ref _live)?.Resident().Rows.WeightedMean(weights));
    }

    public Task<IReadOnlyDictionary<string, string>> NearestAmongAsync(
        IReadOnlyCollection<string> productIds, IReadOnlyCollection<string> among, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(productIds);
        ArgumentNullException.ThrowIfNull(among);
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        IReadOnlyDictionary<string, string> nearest = Volatile.Read(ref _live)?.Resident().Rows.NearestAmong(productIds, among)
            ?? new Dictionary<string, string>();
        return Task.FromResult(nearest);
    }

    public void Dispose()
    {
        lock (_catalogGate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var version in _versions.Values)
                version.Dispose();
            _ownership.Dispose();
        }
    }

    /// <summary>The record log of <paramref name="version"/>, for tests that simulate crashes.</summary>
    internal string RecordLogPath(string version) => Find(version).Resident().LogPath;

    internal string VersionDirectory(string version) => Path.GetDirectoryName(RecordLogPath(version))!;

    private static FileStream TakeOwnership(string root)
    {
        try
        {
            // An exclusive handle for the instance's lifetime: two writers appending to one log would corrupt it.
            return new FileStream(Path.Combine(root, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The embedded vector index at {root} is already open in another instance or process.", e);
        }
    }

    private static string? ReadLivePointer(string root)
    {
        var path = Path.Combine(root, LivePointerFileName);
        return File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : null;
    }

    /// <summary>
    /// A write to a version released meanwhile goes to it loaded again, so nothing acknowledged is lost; a version that
    /// was replaced as live (a write that raced the switch) then leaves memory again.
    /// </summary>
    private void Write(string version, Action<StoredVersion> write)
    {
        var slot = Find(version);
        while (true)
        {
            try
            {
                write(slot.Resident());
                break;
            }
            catch (VersionReleasedException)
            {
                slot = Find(version);
            }
        }
        if (!slot.HasBeenLive)
            return;
        lock (_catalogGate)
        {
            if (!ReferenceEquals(slot, _live))
                slot.Release();
        }
    }

    private VersionSlot Find(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        ThrowIfDisposed();
        return _versions.TryGetValue(version, out var stored) ? stored : throw StoredVersion.UnknownVersion(version);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
}

public enum GraphState
{
    /// <summary>Too small for a graph (or its build failed): searches scan exactly.</summary>
    None,
    /// <summary>Being built in the background; searches scan exactly meanwhile.</summary>
    Building,
    Ready,
}

public sealed record GraphStatus(GraphState State, long Vectors);

/// <summary>The ways a query can be answered, from the cheapest exact one to the graph.</summary>
internal enum SearchPlan
{
    FullScan,
    CategoryScan,
    Graph,
}
