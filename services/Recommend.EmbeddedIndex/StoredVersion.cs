using Microsoft.Extensions.Logging;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex.Graph;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// One version on disk and in memory: its manifest, its rows, the log that makes writes to them durable, and the
/// HNSW graph derived from the rows.
/// </summary>
internal sealed class StoredVersion : IDisposable
{
    // Serialises writers to this version; searches never take it.
    private readonly Lock _writeGate = new();
    private readonly RecordLog _log;
    private readonly string _directory;
    private bool _dropped;
    private bool _released;

    private StoredVersion(string directory, VersionManifest manifest, VectorMatrix rows, RecordLog log, VersionPolicy policy, ILogger logger)
    {
        _directory = directory;
        Manifest = manifest;
        Rows = rows;
        _log = log;
        Graph = new VersionGraph(_writeGate, rows, policy with { Settings = policy.Settings with { Precision = manifest.GraphPrecision } },
            directory, manifest.Name, () => _log.Position, logger);
    }

    public VersionManifest Manifest { get; }

    public VectorMatrix Rows { get; }

    public VersionGraph Graph { get; }

    public string LogPath => Path.Combine(_directory, RecordLog.FileName);

    public static StoredVersion Create(string directory, VersionManifest manifest, VersionPolicy policy, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        var log = RecordLog.Create(Path.Combine(directory, RecordLog.FileName));
        // The manifest goes last: a directory without one is a creation that crashed, removed on the next open.
        manifest.Save(directory);
        return new StoredVersion(directory, manifest, new VectorMatrix(manifest.Dimension, policy.RowPrecision), log, policy, logger);
    }

    public static StoredVersion Open(string directory, VersionPolicy policy, ILogger logger)
    {
        var manifest = VersionManifest.Load(directory);
        var rows = new VectorMatrix(manifest.Dimension, policy.RowPrecision);
        var snapshot = GraphSnapshot.TryReadMeta(directory);
        // The saved graph is usable only if the log still has a record boundary where the graph says it stopped.
        var snapshotMatchesLog = snapshot is { LogRecords: 0 };
        var writtenAfterSnapshot = new HashSet<string>(StringComparer.Ordinal);
        void Track(string productId, LogPosition after)
        {
            if (snapshot is null)
                return;
            if (after == snapshot.Position)
                snapshotMatchesLog = true;
            else if (after.Records > snapshot.LogRecords)
                writtenAfterSnapshot.Add(productId);
        }
        var log = RecordLog.Open(
            Path.Combine(directory, RecordLog.FileName),
            manifest.Dimension,
            upsert: (record, after) =>
            {
                rows.Upsert([record]);
                Track(record.ProductId, after);
            },
            delete: (productId, after) =>
            {
                rows.Remove([productId]);
                Track(productId, after);
            });
        var version = new StoredVersion(directory, manifest, rows, log, policy, logger);
        version.Graph.Restore(snapshot, snapshotMatchesLog, writtenAfterSnapshot);
        return version;
    }

    public void Upsert(IReadOnlyList<VectorRecord> records)
    {
        // The whole batch is checked before any of it is written, so a rejected batch leaves no trace.
        var unitRecords = records.Select(ToUnitRecord).ToArray();
        if (unitRecords.Length == 0)
            return;
        lock (_writeGate)
        {
            ThrowIfDropped();
            // A price or stock change keeps the vector: the graph is left alone.
            var changedVectors = unitRecords.Where(r => !Rows.HasVector(r.ProductId, r.Vector)).ToList();
            // Durable first, visible second: a search never returns a write that a crash could take back.
            _log.AppendUpserts(unitRecords);
            Rows.Upsert(unitRecords);
            Graph.Upserted(changedVectors);
            CompactIfMostlyDead();
        }
    }

    public void Delete(IReadOnlyCollection<string> productIds)
    {
        lock (_writeGate)
        {
            ThrowIfDropped();
            var present = productIds.Distinct(StringComparer.Ordinal).Where(Rows.Contains).ToArray();
            if (present.Length == 0)
                return;
            _log.AppendDeletes(present);
            Rows.Remove(present);
            Graph.Removed(present);
            CompactIfMostlyDead();
        }
    }

    /// <summary>Deletes the version's files. Its rows stay readable, since a search that began before may still hold them.</summary>
    public void Drop()
    {
        lock (_writeGate)
        {
            _dropped = true;
            Graph.Drop();
            _log.Dispose();
            // Manifest first: if the recursive delete is interrupted, the next open sees no manifest and finishes it.
            File.Delete(Path.Combine(_directory, VersionManifest.FileName));
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Closes the log and the graph at shutdown; returns the log's length, or null once the version was dropped.</summary>
    public long? Close()
    {
        // Outside the gate: a build finishing meanwhile needs it to publish, and saving takes it.
        Graph.Dispose();
        long? logBytes;
        lock (_writeGate)
        {
            logBytes = _dropped ? null : _log.Position.Offset;
            _log.Dispose();
        }
        Rows.Dispose();
        return logBytes;
    }

    public void Dispose() => Close();

    /// <summary>
    /// Takes the version out of memory: no write is accepted after this (<see cref="VersionReleasedException"/>), the
    /// graph is saved if it changed, and the log closed. The rows are left to the collector rather than disposed, as a
    /// search that began before may still read them. Returns the log's length, or null if the version was dropped.
    /// </summary>
    public long? Release()
    {
        lock (_writeGate)
        {
            if (_dropped)
                return null;
            _released = true;
        }
        Graph.Dispose();
        lock (_writeGate)
        {
            var logBytes = _log.Position.Offset;
            _log.Dispose();
            return logBytes;
        }
    }

    /// <summary>Live rows in a version's log, counted from its keys alone (no vector is kept), and the log's intact length.</summary>
    public static (long Rows, long LogBytes) CountRows(string directory, int dimension)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        using var log = RecordLog.Open(Path.Combine(directory, RecordLog.FileName), dimension,
            upsert: (record, _) => keys.Add(record.ProductId), delete: (productId, _) => keys.Remove(productId));
        return (keys.Count, log.Position.Offset);
    }

    internal static KeyNotFoundException UnknownVersion(string name) => new($"Index version '{name}' does not exist.");

    private VectorRecord ToUnitRecord(VectorRecord record)
    {
        ArgumentException.ThrowIfNullOrEmpty(record.ProductId, nameof(record.ProductId));
        if (record.Vector.Length != Manifest.Dimension)
            throw new ArgumentException(
                $"Version '{Manifest.Name}' holds vectors of dimension {Manifest.Dimension}; product '{record.ProductId}' has {record.Vector.Length}.",
                "records");
        return record with { Vector = UnitVector.Normalise(record.Vector, "records") };
    }

    private void ThrowIfDropped()
    {
        if (_dropped)
            throw UnknownVersion(Manifest.Name);
        if (_released)
            throw new VersionReleasedException();
    }

    // Rewriting costs O(live rows) and runs only after more than that many dead records piled up, so it is O(1) per write amortised.
    private void CompactIfMostlyDead()
    {
        var deadRecords = _log.RecordCount - Rows.Count;
        if (deadRecords <= Rows.Count)
            return;
        Graph.LogRewriting();
        _log.Rewrite(Rows.Export());
        Graph.LogRewritten();
    }
}

/// <summary>A write reached a version just taken out of memory; the index retries it on the version loaded again.</summary>
internal sealed class VersionReleasedException() : InvalidOperationException("The index version was released from memory.");
