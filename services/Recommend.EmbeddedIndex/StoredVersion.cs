using Recommend.Core.Vectors;

namespace Recommend.EmbeddedIndex;

/// <summary>One version on disk and in memory: its manifest, its rows and the log that makes writes to them durable.</summary>
internal sealed class StoredVersion : IDisposable
{
    // Serialises writers to this version; searches never take it.
    private readonly Lock _writeGate = new();
    private readonly RecordLog _log;
    private readonly string _directory;
    private bool _dropped;

    private StoredVersion(string directory, VersionManifest manifest, VectorMatrix rows, RecordLog log)
    {
        _directory = directory;
        Manifest = manifest;
        Rows = rows;
        _log = log;
    }

    public VersionManifest Manifest { get; }

    public VectorMatrix Rows { get; }

    public string LogPath => Path.Combine(_directory, RecordLog.FileName);

    public static StoredVersion Create(string directory, VersionManifest manifest)
    {
        Directory.CreateDirectory(directory);
        var log = RecordLog.Create(Path.Combine(directory, RecordLog.FileName));
        // The manifest goes last: a directory without one is a creation that crashed, removed on the next open.
        manifest.Save(directory);
        return new StoredVersion(directory, manifest, new VectorMatrix(manifest.Dimension), log);
    }

    public static StoredVersion Open(string directory)
    {
        var manifest = VersionManifest.Load(directory);
        var rows = new VectorMatrix(manifest.Dimension);
        var log = RecordLog.Open(
            Path.Combine(directory, RecordLog.FileName),
            manifest.Dimension,
            upsert: record => rows.Upsert([record]),
            delete: productId => rows.Remove([productId]));
        return new StoredVersion(directory, manifest, rows, log);
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
            // Durable first, visible second: a search never returns a write that a crash could take back.
            _log.AppendUpserts(unitRecords);
            Rows.Upsert(unitRecords);
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
            CompactIfMostlyDead();
        }
    }

    /// <summary>Deletes the version's files. Its rows stay readable, since a search that began before may still hold them.</summary>
    public void Drop()
    {
        lock (_writeGate)
        {
            _dropped = true;
            _log.Dispose();
            // Manifest first: if the recursive delete is interrupted, the next open sees no manifest and finishes it.
            File.Delete(Path.Combine(_directory, VersionManifest.FileName));
            Directory.Delete(_directory, recursive: true);
        }
    }

    public void Dispose()
    {
        lock (_writeGate)
            _log.Dispose();
        Rows.Dispose();
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
    }

    // Rewriting costs O(live rows) and runs only after more than that many dead records piled up, so it is O(1) per write amortised.
    private void CompactIfMostlyDead()
    {
        var deadRecords = _log.RecordCount - Rows.Count;
        if (deadRecords > Rows.Count)
            _log.Rewrite(Rows.Export());
    }
}
