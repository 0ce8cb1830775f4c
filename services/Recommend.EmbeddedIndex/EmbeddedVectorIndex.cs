using System.Collections.Concurrent;
using System.Text;
using Recommend.Core.Vectors;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// <see cref="IVectorIndex"/> in-process: exact cosine search over in-memory matrices, each version persisted in its
/// own directory as a manifest plus an fsynced record log. A small "live" file names the version readers use; it is
/// replaced atomically on disk and the in-memory reference is swapped atomically, so readers never see a half switch.
/// One instance owns its directory (enforced with a lock file); dispose it only after calls on it have finished.
/// </summary>
/// <remarks>
/// Layout: <c>live</c>, <c>.lock</c>, <c>versions/v{n}/manifest.json</c>, <c>versions/v{n}/records.log</c>.
/// Operations complete synchronously: searches are CPU-bound and short, writes block on fsync.
/// </remarks>
public sealed class EmbeddedVectorIndex : IVectorIndex, IDisposable
{
    private const string LockFileName = ".lock";
    private const string LivePointerFileName = "live";
    private const string VersionsDirectoryName = "versions";

    private readonly string _versionsDirectory;
    private readonly string _livePointerPath;
    private readonly FileStream _ownership;
    private readonly ConcurrentDictionary<string, StoredVersion> _versions;
    // Serialises changes to the set of versions and to the live pointer; searches never take it.
    private readonly Lock _catalogGate = new();
    private StoredVersion? _live;
    private long _lastSequence;
    private bool _disposed;

    private EmbeddedVectorIndex(string directory, FileStream ownership, ConcurrentDictionary<string, StoredVersion> versions, StoredVersion? live)
    {
        DirectoryPath = directory;
        _versionsDirectory = Path.Combine(directory, VersionsDirectoryName);
        _livePointerPath = Path.Combine(directory, LivePointerFileName);
        _ownership = ownership;
        _versions = versions;
        _live = live;
        _lastSequence = versions.Values.Select(v => v.Manifest.Sequence).DefaultIfEmpty(0).Max();
    }

    public string Backend => "embedded";

    public string DirectoryPath { get; }

    /// <summary>Opens (or creates) the index in <paramref name="directory"/>, replaying every version's log.</summary>
    /// <exception cref="IOException">Another instance already has the directory open.</exception>
    public static EmbeddedVectorIndex Open(string directory)
    {
        var root = Path.GetFullPath(directory);
        var versionsDirectory = Path.Combine(root, VersionsDirectoryName);
        Directory.CreateDirectory(versionsDirectory);
        var ownership = TakeOwnership(root);
        var versions = new ConcurrentDictionary<string, StoredVersion>(StringComparer.Ordinal);
        try
        {
            foreach (var versionDirectory in Directory.EnumerateDirectories(versionsDirectory))
            {
                if (!File.Exists(Path.Combine(versionDirectory, VersionManifest.FileName)))
                {
                    // A creation or deletion that crashed part-way; neither left anything a caller may rely on.
                    Directory.Delete(versionDirectory, recursive: true);
                    continue;
                }
                var version = StoredVersion.Open(versionDirectory);
                versions[version.Manifest.Name] = version;
            }
            return new EmbeddedVectorIndex(root, ownership, versions, ReadLivePointer(root, versions));
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
            var manifest = new VersionManifest($"v{sequence}", sequence, spec.ModelId, spec.Dimension, DateTimeOffset.UtcNow);
            var version = StoredVersion.Create(Path.Combine(_versionsDirectory, manifest.Name), manifest);
            _versions[manifest.Name] = version;
            return Task.FromResult(manifest.ToIndexVersion(isLive: false));
        }
    }

    public Task SetLiveVersionAsync(string version, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        lock (_catalogGate)
        {
            var target = Find(version);
            // On disk first: once this returns, a restart comes back on the new version.
            AtomicFile.WriteAllBytes(_livePointerPath, Encoding.UTF8.GetBytes(target.Manifest.Name));
            Volatile.Write(ref _live, target);
        }
        return Task.CompletedTask;
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
        Find(version).Upsert(records);
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(productIds);
        ct.ThrowIfCancellationRequested();
        Find(version).Delete(productIds);
        return Task.CompletedTask;
    }

    public Task<long> CountAsync(string version, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult((long)Find(version).Rows.Count);
    }

    public Task<IReadOnlyList<VectorHit>> SearchAsync(VectorQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Limit, nameof(query));
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        // Read the live reference once: the whole search runs against that version even if it is switched meanwhile.
        var live = Volatile.Read(ref _live);
        return Task.FromResult(live is null ? [] : Search(live, query));
    }

    public Task<IReadOnlyList<VectorHit>> SearchAsync(string version, VectorQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Limit, nameof(query));
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(Search(Find(version), query));
    }

    private static IReadOnlyList<VectorHit> Search(StoredVersion version, VectorQuery query)
    {
        if (query.Vector.Length != version.Manifest.Dimension)
            throw new ArgumentException(
                $"The index version '{version.Manifest.Name}' holds vectors of dimension {version.Manifest.Dimension}; the query has {query.Vector.Length}.",
                nameof(query));
        return version.Rows.Search(UnitVector.Normalise(query.Vector, nameof(query)), query.Limit, query.Filter);
    }

    public Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(productIds);
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var live = Volatile.Read(ref _live);
        IReadOnlyDictionary<string, float[]> vectors = live is null
            ? new Dictionary<string, float[]>()
            : live.Rows.GetVectors(productIds);
        return Task.FromResult(vectors);
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
    internal string RecordLogPath(string version) => Find(version).LogPath;

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

    private static StoredVersion? ReadLivePointer(string root, ConcurrentDictionary<string, StoredVersion> versions)
    {
        var path = Path.Combine(root, LivePointerFileName);
        if (!File.Exists(path))
            return null;
        var name = File.ReadAllText(path, Encoding.UTF8);
        return versions.TryGetValue(name, out var live)
            ? live
            : throw new InvalidDataException($"The live pointer in {root} names version '{name}', which has no manifest.");
    }

    private StoredVersion Find(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        ThrowIfDisposed();
        return _versions.TryGetValue(version, out var stored) ? stored : throw StoredVersion.UnknownVersion(version);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
}
