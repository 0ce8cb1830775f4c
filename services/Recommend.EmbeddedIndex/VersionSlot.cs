using System.Text.Json;
using Microsoft.Extensions.Logging;
using Recommend.EmbeddedIndex.Graph;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// A version as the index holds it: its manifest always, its rows, log and graph only while it is resident. The live
/// version is resident; the versions kept for rollback cost disk, not memory, and load on first use — a rollback to
/// one, a write to it, or a search that names it.
/// </summary>
internal sealed class VersionSlot
{
    /// <summary>Row count of a version that is not resident, valid while its log is exactly this long.</summary>
    private sealed record RowCount(long Rows, long LogBytes);

    private const string RowCountFileName = "rows.json";

    // Serialises loading and releasing: a release saves the graph that the next load reads.
    private readonly Lock _gate = new();
    private readonly string _directory;
    private readonly VersionPolicy _policy;
    private readonly ILogger _logger;
    private StoredVersion? _resident;
    private long _rowsWhileReleased;

    private VersionSlot(string directory, VersionManifest manifest, VersionPolicy policy, ILogger logger, StoredVersion? resident, long rows)
    {
        _directory = directory;
        Manifest = manifest;
        _policy = policy;
        _logger = logger;
        _resident = resident;
        _rowsWhileReleased = rows;
    }

    public VersionManifest Manifest { get; }

    public bool IsResident => Loaded is not null;

    /// <summary>The version if it is resident now, without loading it (status must not bring a kept version back).</summary>
    public StoredVersion? Loaded => Volatile.Read(ref _resident);

    /// <summary>Whether it has served readers in this process: released again once another version replaces it.</summary>
    public bool HasBeenLive { get; set; }

    public long Count => Volatile.Read(ref _resident)?.Rows.Count ?? Volatile.Read(ref _rowsWhileReleased);

    public static VersionSlot Create(string directory, VersionManifest manifest, VersionPolicy policy, ILogger logger) =>
        new(directory, manifest, policy, logger, StoredVersion.Create(directory, manifest, policy, logger), 0);

    /// <summary>
    /// The live version is loaded; any other is counted only — from the count its last release saved, or, when the log
    /// changed since (a crash while it was resident), by replaying the log's keys without keeping any vector.
    /// </summary>
    public static VersionSlot Open(string directory, VersionPolicy policy, ILogger logger, bool resident)
    {
        if (resident)
        {
            var version = StoredVersion.Open(directory, policy, logger);
            return new VersionSlot(directory, version.Manifest, policy, logger, version, 0);
        }
        var manifest = VersionManifest.Load(directory);
        var logBytes = new FileInfo(Path.Combine(directory, RecordLog.FileName)).Length;
        if (TryReadRowCount(directory) is not { } saved || saved.LogBytes != logBytes)
        {
            var counted = StoredVersion.CountRows(directory, manifest.Dimension);
            saved = new RowCount(counted.Rows, counted.LogBytes);
            SaveRowCount(directory, saved);
        }
        return new VersionSlot(directory, manifest, policy, logger, null, saved.Rows);
    }

    /// <summary>The loaded version, loading it first if it was released (its log replayed, its saved graph read).</summary>
    public StoredVersion Resident()
    {
        if (Volatile.Read(ref _resident) is { } resident)
            return resident;
        lock (_gate)
        {
            if (_resident is { } loaded)
                return loaded;
            // Before any write can lengthen the log: a count left on disk must never describe a changed version.
            File.Delete(Path.Combine(_directory, RowCountFileName));
            var version = StoredVersion.Open(_directory, _policy, _logger);
            _logger.LogInformation("Loaded index version {Version} ({Rows} vectors)", Manifest.Name, version.Rows.Count);
            Volatile.Write(ref _resident, version);
            return version;
        }
    }

    /// <summary>
    /// Frees the rows and the graph (saved first if it changed) and keeps only the count. Searches already inside the
    /// version finish on what they hold; a write that arrives after is retried by the index on a fresh load.
    /// </summary>
    public void Release()
    {
        lock (_gate)
        {
            if (_resident is not { } version)
                return;
            Volatile.Write(ref _rowsWhileReleased, version.Rows.Count);
            Volatile.Write(ref _resident, null);
            // Null when the version was deleted meanwhile: nothing to keep.
            if (version.Release() is not { } logBytes)
                return;
            SaveRowCount(_directory, new RowCount(version.Rows.Count, logBytes));
            _logger.LogInformation("Released index version {Version} from memory ({Rows} vectors stay on disk)", Manifest.Name, version.Rows.Count);
        }
    }

    /// <summary>Deletes the version's files, whether or not it is resident.</summary>
    public void Drop()
    {
        lock (_gate)
        {
            if (_resident is { } version)
            {
                version.Drop();
                Volatile.Write(ref _resident, null);
                return;
            }
            // Manifest first: if the recursive delete is interrupted, the next open sees no manifest and finishes it.
            File.Delete(Path.Combine(_directory, VersionManifest.FileName));
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>At shutdown: a resident version leaves its count behind, so the next start need not load it.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_resident is not { } version)
                return;
            var logBytes = version.Close();
            if (logBytes is { } length)
                SaveRowCount(_directory, new RowCount(version.Rows.Count, length));
        }
    }

    private static RowCount? TryReadRowCount(string directory)
    {
        try
        {
            return JsonSerializer.Deserialize<RowCount>(File.ReadAllBytes(Path.Combine(directory, RowCountFileName)));
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void SaveRowCount(string directory, RowCount count) =>
        AtomicFile.WriteAllBytes(Path.Combine(directory, RowCountFileName), JsonSerializer.SerializeToUtf8Bytes(count));
}
