using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Recommend.Core.Vectors;

namespace Recommend.EmbeddedIndex.Graph;

/// <summary>A graph ready for searches, with the keys its nodes carry.</summary>
internal sealed record ReadyGraph(HnswGraph Graph, GraphKeys Keys);

/// <summary>
/// How a version is held: when it gets a graph and how that is built and kept, and the precision of its exact rows.
/// </summary>
internal sealed record VersionPolicy(GraphSettings Settings, int MinimumRows, int BuildThreads, int SaveAfterChanges, VectorPrecision RowPrecision);

/// <summary>
/// The HNSW graph of one version: derived data, never the source of truth. It is restored from its saved snapshot
/// plus the log records written after it, or else built in the background from the rows while searches scan
/// exactly; writes made during a build are journaled and applied before it is published. Every method documented
/// as "under the gate" runs holding the version's write gate.
/// </summary>
internal sealed class VersionGraph : IDisposable
{
    internal const int BuildChunk = 4096;

    private readonly Lock _gate;
    private readonly VectorMatrix _rows;
    private readonly VersionPolicy _policy;
    private readonly string _directory;
    private readonly string _versionName;
    private readonly Func<LogPosition> _logPosition;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private ReadyGraph? _ready;
    // Products written while a build runs whose rows it had already copied; the builder re-applies them. Null when no
    // build runs.
    private HashSet<string>? _journal;
    // While a build runs: the rows below this are copied, or being copied, into its graph.
    private int _buildScanned;
    private Task _build = Task.CompletedTask;
    private Task _save = Task.CompletedTask;
    private bool _buildFailed;
    private long _changesSinceSave;

    public VersionGraph(Lock gate, VectorMatrix rows, VersionPolicy policy, string directory, string versionName, Func<LogPosition> logPosition, ILogger logger)
    {
        _gate = gate;
        _rows = rows;
        _policy = policy;
        _directory = directory;
        _versionName = versionName;
        _logPosition = logPosition;
        _logger = logger;
    }

    /// <summary>The graph searches may use, or null while there is none (searches then scan exactly).</summary>
    public ReadyGraph? Ready => Volatile.Read(ref _ready);

    public bool IsBuilding => !_build.IsCompleted;

    /// <summary>While a build runs, the rows it has copied or is copying.</summary>
    internal int RowsReachedByBuild => Volatile.Read(ref _buildScanned);

    /// <summary>Completes when the version needs no graph or has one (a failed build also completes it: scans stay exact).</summary>
    public Task WhenReadyAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            StartBuildIfLarge();
            return _build.WaitAsync(ct);
        }
    }

    /// <summary>At open, before any other call: the saved graph with the changes after it, or a background build.</summary>
    public void Restore(GraphSnapshot? snapshot, bool snapshotMatchesLog, IReadOnlyCollection<string> writtenAfterSnapshot)
    {
        lock (_gate)
        {
            if (snapshot is not null)
            {
                var reason = !snapshotMatchesLog ? "it does not match the record log"
                    : !snapshot.Matches(_policy.Settings, _rows.Dimension) ? "it was built with other settings"
                    : writtenAfterSnapshot.Count > Math.Max(_policy.SaveAfterChanges, _rows.Count / 10) ? "too much was written after it"
                    : TryLoad(snapshot, writtenAfterSnapshot);
                if (reason is null)
                    return;
                _logger.LogWarning("The saved HNSW graph of index version {Version} is not used ({Reason}); rebuilding it in the background", _versionName, reason);
                GraphSnapshot.Delete(_directory);
            }
            StartBuildIfLarge();
        }
    }

    /// <summary>Under the gate, after the rows took the records: those whose vector is new or changed.</summary>
    public void Upserted(IReadOnlyList<VectorRecord> changedVectors)
    {
        if (changedVectors.Count == 0)
            return;
        if (_journal is { } journal)
        {
            // A row the build has not reached yet is copied with its new vector: journaling it would add it twice,
            // and a bulk import during a build would re-apply nearly everything while holding the write gate.
            var scanned = Volatile.Read(ref _buildScanned);
            journal.UnionWith(changedVectors.Select(r => r.ProductId).Where(id => _rows.RowOf(id) < scanned));
        }
        else if (_ready is { } ready)
            Apply(ready, changedVectors.Select(r => r.ProductId).ToList());
        else
            StartBuildIfLarge();
    }

    /// <summary>Under the gate, after the rows dropped the products.</summary>
    public void Removed(IReadOnlyList<string> productIds)
    {
        if (_journal is { } journal)
            journal.UnionWith(productIds);
        else if (_ready is { } ready)
            Apply(ready, productIds);
    }

    /// <summary>Under the gate, before the log is rewritten: the saved graph names positions in the old log.</summary>
    public void LogRewriting() => GraphSnapshot.Delete(_directory);

    /// <summary>Under the gate, after the log was rewritten: the graph in memory is still right, so save it against the new log.</summary>
    public void LogRewritten()
    {
        if (_ready is { } ready)
            SaveSnapshot(ready);
    }

    /// <summary>Stops a build and saves changes since the last snapshot, so the next start loads instead of rebuilding.</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        WaitQuietly(_build);
        WaitQuietly(_save);
        lock (_gate)
        {
            if (_ready is { } ready)
            {
                if (_changesSinceSave > 0 && Directory.Exists(_directory))
                    SaveSnapshot(ready);
                ready.Graph.Dispose();
                _ready = null;
            }
        }
    }

    /// <summary>Under the gate, as the version's files are deleted: release the graph without saving it.</summary>
    public void Drop()
    {
        _stopping.Cancel();
        _ready?.Graph.Dispose();
        _ready = null;
    }

    private string? TryLoad(GraphSnapshot snapshot, IReadOnlyCollection<string> writtenAfterSnapshot)
    {
        ReadyGraph ready;
        try
        {
            var (graph, keys) = snapshot.Load(_directory, _policy.Settings, _rows.SharedId);
            ready = new ReadyGraph(graph, keys);
        }
        catch (Exception e) when (e is GraphException or IOException or InvalidDataException or EndOfStreamException)
        {
            return e.Message;
        }
        Apply(ready, writtenAfterSnapshot.ToList());
        if (ready.Keys.Count != _rows.Count)
        {
            ready.Graph.Dispose();
            return $"it holds {ready.Keys.Count} products, the rows {_rows.Count}";
        }
        _changesSinceSave = writtenAfterSnapshot.Count;
        Volatile.Write(ref _ready, ready);
        _logger.LogInformation("Loaded the saved HNSW graph of index version {Version}: {Nodes} vectors ({Precision}, {Kernel} distances, {Megabytes} MB), {Changes} later changes applied",
            _versionName, ready.Keys.Count, ready.Graph.Precision, ready.Graph.Kernel, ready.Graph.MemoryBytes / 1_000_000, writtenAfterSnapshot.Count);
        return null;
    }

    /// <summary>Brings the graph in line with the rows for <paramref name="productIds"/>: old nodes out, current vectors in.</summary>
    private void Apply(ReadyGraph ready, IReadOnlyList<string> productIds)
    {
        var vectors = _rows.GetVectors(productIds);
        var added = new List<(ulong Key, float[] Vector)>(vectors.Count);
        foreach (var productId in productIds.Distinct(StringComparer.Ordinal))
        {
            if (ready.Keys.Release(productId, out var oldKey))
                ready.Graph.Remove(oldKey);
            if (vectors.TryGetValue(productId, out var vector))
                added.Add((ready.Keys.Assign(productId), vector));
        }
        Parallel.ForEach(added, new ParallelOptions { MaxDegreeOfParallelism = added.Count < 64 ? 1 : _policy.BuildThreads },
            node => ready.Graph.Add(node.Key, node.Vector));
        _changesSinceSave += productIds.Count;
        if (_changesSinceSave >= _policy.SaveAfterChanges && _save.IsCompleted && !_stopping.IsCancellationRequested)
            _save = Task.Run(SaveInBackground);
    }

    private void SaveInBackground()
    {
        lock (_gate)
        {
            if (_ready is { } ready && !_stopping.IsCancellationRequested)
                SaveSnapshot(ready);
        }
    }

    private void SaveSnapshot(ReadyGraph ready)
    {
        try
        {
            GraphSnapshot.Save(_directory, ready.Graph, ready.Keys, _policy.Settings, _logPosition());
            _changesSinceSave = 0;
        }
        catch (Exception e) when (e is GraphException or IOException or UnauthorizedAccessException)
        {
            // Only start-up time is lost: without a snapshot the next open rebuilds.
            _logger.LogWarning(e, "Could not save the HNSW graph of index version {Version}", _versionName);
            TryDeleteSnapshot();
        }
    }

    private void TryDeleteSnapshot()
    {
        try
        {
            GraphSnapshot.Delete(_directory);
        }
        catch (IOException)
        {
            // A snapshot without its description is ignored anyway.
        }
    }

    /// <summary>Under the gate.</summary>
    private void StartBuildIfLarge()
    {
        if (_ready is not null || !_build.IsCompleted || _buildFailed || _stopping.IsCancellationRequested || _rows.Count < _policy.MinimumRows)
            return;
        _journal = new HashSet<string>(StringComparer.Ordinal);
        _buildScanned = 0;
        var ct = _stopping.Token;
        _build = Task.Run(() => Build(ct), CancellationToken.None);
    }

    private void Build(CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        HnswGraph? graph = null;
        try
        {
            graph = HnswGraph.Create(_policy.Settings, _rows.Dimension, capacity: _rows.Count + _rows.Count / 8);
            var keys = new GraphKeys(_rows.Count);
            var options = new ParallelOptions { MaxDegreeOfParallelism = _policy.BuildThreads, CancellationToken = ct };
            for (var start = 0; ; start += BuildChunk)
            {
                // Published before the copy (the rows' lock orders the two): a writer that reads it after this
                // journals a row of this chunk; one that read it before had written the row, which the copy then sees.
                Interlocked.Exchange(ref _buildScanned, start + BuildChunk);
                var (ids, vectors) = _rows.CopyRows(start, BuildChunk);
                if (ids.Length == 0)
                    break;
                // A delete moves the last row into the hole, so a row can be seen twice; its first copy is kept.
                var fresh = new List<(ulong Key, int Row)>(ids.Length);
                for (var row = 0; row < ids.Length; row++)
                {
                    if (!keys.TryGetKey(ids[row], out _))
                        fresh.Add((keys.Assign(ids[row]), row));
                }
                var built = graph;
                var dimension = _rows.Dimension;
                Parallel.ForEach(fresh, options, node => built.Add(node.Key, vectors.AsSpan(node.Row * dimension, dimension)));
            }

            lock (_gate)
            {
                ct.ThrowIfCancellationRequested();
                var ready = new ReadyGraph(graph, keys);
                var changed = _journal!.ToList();
                _journal = null;
                // Rows moved behind the scan by deletes, or deleted after it, are put right here, where no writer runs.
                changed.AddRange(_rows.ProductIds().Where(id => !keys.TryGetKey(id, out _)));
                var rowIds = _rows.ProductIds().ToHashSet(StringComparer.Ordinal);
                changed.AddRange(keys.Products.Where(id => !rowIds.Contains(id)).ToList());
                Apply(ready, changed);
                Volatile.Write(ref _ready, ready);
                graph = null;
                SaveSnapshot(ready);
                _logger.LogInformation("Built the HNSW graph of index version {Version}: {Nodes} vectors in {Seconds:F1} s ({Precision}, {Kernel} distances, {Megabytes} MB), {Changes} later changes applied",
                    _versionName, keys.Count, started.Elapsed.TotalSeconds, ready.Graph.Precision, ready.Graph.Kernel, ready.Graph.MemoryBytes / 1_000_000, changed.Count);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            lock (_gate)
                _journal = null;
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Building the HNSW graph of index version {Version} failed; its searches stay exact", _versionName);
            lock (_gate)
            {
                _journal = null;
                _buildFailed = true;
            }
        }
        finally
        {
            graph?.Dispose();
        }
    }

    private static void WaitQuietly(Task task)
    {
        try
        {
            task.Wait();
        }
        catch (AggregateException)
        {
            // Failures were logged where they happened.
        }
    }
}
