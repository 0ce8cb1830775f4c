using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Recommend.EmbeddedIndex.Graph;

/// <summary>The HNSW parameters a graph is built with; a saved graph built with other ones is rebuilt.</summary>
internal sealed record GraphSettings(VectorPrecision Precision, int Connectivity, int ExpansionAdd, int ExpansionSearch, int ConcurrentCalls);

/// <summary>Decides, per graph key, whether a node may be returned; called back from native code mid-search.</summary>
internal interface IGraphFilter
{
    bool Accepts(ulong key);
}

/// <summary>
/// A USearch HNSW graph over cosine distance. Adds, removes and searches may run concurrently: USearch keeps one
/// context per concurrent caller, so callers beyond <see cref="GraphSettings.ConcurrentCalls"/> wait for a slot.
/// Growing the graph reallocates its nodes, so it excludes every other call while it runs.
/// </summary>
internal sealed unsafe class HnswGraph : IDisposable
{
    private readonly GraphHandle _handle;
    private readonly GraphSettings _settings;
    private readonly SemaphoreSlim _slots;
    private readonly ReaderWriterLockSlim _growth = new(LockRecursionPolicy.NoRecursion);

    private HnswGraph(GraphHandle handle, GraphSettings settings, int dimension)
    {
        _handle = handle;
        _settings = settings;
        Dimension = dimension;
        _slots = new SemaphoreSlim(settings.ConcurrentCalls);
        nint error = 0;
        UsearchNative.ChangeExpansionSearch(handle, (nuint)settings.ExpansionSearch, &error);
        UsearchNative.ThrowIfFailed(error, "expansion");
        SetThreads();
    }

    public int Dimension { get; }

    public VectorPrecision Precision => _settings.Precision;

    public static HnswGraph Create(GraphSettings settings, int dimension, int capacity)
    {
        var graph = new HnswGraph(GraphHandle.Create(Options(settings, dimension)), settings, dimension);
        graph.Reserve(capacity);
        return graph;
    }

    /// <summary>Loads a graph saved by <see cref="Save"/>; throws <see cref="GraphException"/> on a damaged file.</summary>
    public static HnswGraph Load(string path, GraphSettings settings, int dimension)
    {
        var handle = GraphHandle.Create(Options(settings, dimension));
        try
        {
            nint error = 0;
            UsearchNative.Load(handle, path, &error);
            UsearchNative.ThrowIfFailed(error, "load");
            return new HnswGraph(handle, settings, dimension);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public long Count
    {
        get
        {
            nint error = 0;
            var size = UsearchNative.Size(_handle, &error);
            UsearchNative.ThrowIfFailed(error, "size");
            return (long)size;
        }
    }

    /// <summary>
    /// The distance kernel this CPU gives the graph's precision, e.g. "genoa" for BF16 with AVX-512 BF16, "serial"
    /// where every element is widened in scalar code: operators choose a precision with it.
    /// </summary>
    public string Kernel
    {
        get
        {
            nint error = 0;
            var name = UsearchNative.HardwareAcceleration(_handle, &error);
            UsearchNative.ThrowIfFailed(error, "hardware acceleration");
            return Marshal.PtrToStringUTF8(name) ?? "unknown";
        }
    }

    /// <summary>
    /// Bytes the native graph holds: vectors at its precision plus links. USearch visits every node to count them, so
    /// only the build and load log lines ask, not status calls.
    /// </summary>
    public long MemoryBytes
    {
        get
        {
            nint error = 0;
            var bytes = UsearchNative.MemoryUsage(_handle, &error);
            UsearchNative.ThrowIfFailed(error, "memory usage");
            return (long)bytes;
        }
    }

    public void Reserve(int capacity)
    {
        _growth.EnterWriteLock();
        try
        {
            ReserveExclusively((nuint)Math.Max(capacity, 1));
        }
        finally
        {
            _growth.ExitWriteLock();
        }
    }

    public void Add(ulong key, ReadOnlySpan<float> unitVector)
    {
        if (unitVector.Length != Dimension)
            throw new ArgumentException($"The graph holds {Dimension}-dimensional vectors; got {unitVector.Length}.", nameof(unitVector));
        EnsureRoomForOneMore();
        _growth.EnterReadLock();
        _slots.Wait();
        try
        {
            nint error = 0;
            fixed (float* vector = unitVector)
                UsearchNative.Add(_handle, key, vector, UsearchNative.ScalarF32, &error);
            UsearchNative.ThrowIfFailed(error, "add");
        }
        finally
        {
            _slots.Release();
            _growth.ExitReadLock();
        }
    }

    public void Remove(ulong key) => Call(() =>
    {
        nint error = 0;
        UsearchNative.Remove(_handle, key, &error);
        UsearchNative.ThrowIfFailed(error, "remove");
    });

    /// <summary>
    /// Up to <c>keys.Length</c> nearest nodes, nearest first, that <paramref name="filter"/> accepts (every node when it
    /// is null); returns how many were found.
    /// </summary>
    public int Search(ReadOnlySpan<float> unitQuery, IGraphFilter? filter, Span<ulong> keys, Span<float> distances)
    {
        if (unitQuery.Length != Dimension)
            throw new ArgumentException($"The graph holds {Dimension}-dimensional vectors; the query has {unitQuery.Length}.", nameof(unitQuery));
        var state = filter is null ? default : GCHandle.Alloc(filter);
        _growth.EnterReadLock();
        _slots.Wait();
        try
        {
            nint error = 0;
            nuint found;
            var count = (nuint)Math.Min(keys.Length, distances.Length);
            fixed (float* query = unitQuery)
            fixed (ulong* keyBuffer = keys)
            fixed (float* distanceBuffer = distances)
                found = filter is null
                    ? UsearchNative.Search(_handle, query, UsearchNative.ScalarF32, count, keyBuffer, distanceBuffer, &error)
                    : UsearchNative.FilteredSearch(
                        _handle, query, UsearchNative.ScalarF32, count,
                        &AcceptsCallback, GCHandle.ToIntPtr(state), keyBuffer, distanceBuffer, &error);
            UsearchNative.ThrowIfFailed(error, "search");
            return (int)found;
        }
        finally
        {
            _slots.Release();
            _growth.ExitReadLock();
            if (state.IsAllocated) state.Free();
        }
    }

    /// <summary>Writes the graph to <paramref name="path"/> and flushes it to disk. Callers keep writers out meanwhile.</summary>
    public void Save(string path)
    {
        Call(() =>
        {
            nint error = 0;
            UsearchNative.Save(_handle, path, &error);
            UsearchNative.ThrowIfFailed(error, "save");
        });
        using var written = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        written.Flush(flushToDisk: true);
    }

    /// <summary>Releases the native graph once no call is inside it any more (the handle counts them).</summary>
    public void Dispose() => _handle.Dispose();

    private void Call(Action call)
    {
        _growth.EnterReadLock();
        _slots.Wait();
        try
        {
            call();
        }
        finally
        {
            _slots.Release();
            _growth.ExitReadLock();
        }
    }

    private void EnsureRoomForOneMore()
    {
        if (Count < Capacity)
            return;
        _growth.EnterWriteLock();
        try
        {
            var capacity = Capacity;
            if (Count >= capacity)
                ReserveExclusively((nuint)Math.Max(capacity * 2, 1024));
        }
        finally
        {
            _growth.ExitWriteLock();
        }
    }

    private long Capacity
    {
        get
        {
            nint error = 0;
            var capacity = UsearchNative.Capacity(_handle, &error);
            UsearchNative.ThrowIfFailed(error, "capacity");
            return (long)capacity;
        }
    }

    private void ReserveExclusively(nuint capacity)
    {
        nint error = 0;
        UsearchNative.Reserve(_handle, capacity, &error);
        UsearchNative.ThrowIfFailed(error, "reserve");
        // Reserving resets the thread contexts to one per core; more concurrent callers than contexts is undefined.
        SetThreads();
    }

    private void SetThreads()
    {
        nint error = 0;
        UsearchNative.ChangeThreadsAdd(_handle, (nuint)_settings.ConcurrentCalls, &error);
        UsearchNative.ThrowIfFailed(error, "threads");
        UsearchNative.ChangeThreadsSearch(_handle, (nuint)_settings.ConcurrentCalls, &error);
        UsearchNative.ThrowIfFailed(error, "threads");
    }

    private static UsearchNative.InitOptions Options(GraphSettings settings, int dimension) => new()
    {
        MetricKind = UsearchNative.MetricCosine,
        Quantization = settings.Precision switch
        {
            VectorPrecision.F32 => 1,
            VectorPrecision.F16 => 3,
            VectorPrecision.Int8 => 4,
            VectorPrecision.BF16 => 6,
            var other => throw new ArgumentOutOfRangeException(nameof(settings), other, "unknown precision"),
        },
        Dimensions = (nuint)dimension,
        Connectivity = (nuint)settings.Connectivity,
        ExpansionAdd = (nuint)settings.ExpansionAdd,
        ExpansionSearch = (nuint)settings.ExpansionSearch,
    };

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int AcceptsCallback(ulong key, nint state)
    {
        try
        {
            return ((IGraphFilter)GCHandle.FromIntPtr(state).Target!).Accepts(key) ? 1 : 0;
        }
        catch
        {
            // An exception must not unwind into native code; a node that cannot be judged is not returned.
            return 0;
        }
    }
}
